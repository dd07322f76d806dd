"""Members' portal sessions kept on the server (lps_core.sessions), in portal_sessions with the
`lps_member` cookie. A session ends on sign-out, when the member's password changes (every other
session of theirs), or when it was idle for longer than lps.portal.idle_timeout. The staff's
sessions (staff_sessions, `lps_staff`) are another table and another cookie: neither signs anyone
in on the other's pages."""
from lps_core.portal.models import PortalSession
from lps_core.sessions import SessionTable

SESSIONS = SessionTable(PortalSession, "member_id")
start_session = SESSIONS.start
end_session = SESSIONS.end
end_sessions = SESSIONS.end_all
# (the member a token signs in or None, whether its session has just ended from idleness)
session_member = SESSIONS.check
