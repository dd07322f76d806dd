"""LPS's own hook implementations, registered like any third party's plugin through the entry-point
group "lps" of the distribution "lps" (setup.cfg): the tenders, the promotion kinds and the
listeners of the "bill posted" event. A plugin can add to them, and `lps.plugins.disabled` can
block one to replace it."""
