"""A device socket for tests and benches: a pseudo-terminal behind a stable path (a symlink, as udev
makes /dev/lps-reader) that can be unplugged and plugged back in, as a USB serial reader can.

The driver opens `socket.path`; the simulator plays the device on `socket.master`. unplug() closes
the pseudo-terminal, so the driver's reads fail as they do when a cable is pulled out; plug_in()
opens a new one and re-points the symlink to it, so the driver finds the device again at the same
path."""
import os
import tty


class PtySocket:
    def __init__(self, directory, name="ttyLPS0"):
        self.path = os.path.join(directory, name)
        self.master = self.slave = None
        self.plug_in()

    def plug_in(self):
        """A new pseudo-terminal at `path`, in raw mode (nothing the device sends is echoed back)."""
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        new_link = self.path + ".new"
        os.symlink(os.ttyname(self.slave), new_link)
        os.replace(new_link, self.path)

    def unplug(self):
        os.close(self.master)
        os.close(self.slave)
        self.master = self.slave = None

    def close(self):
        if self.master is not None:
            self.unplug()
        if os.path.lexists(self.path):
            os.unlink(self.path)
