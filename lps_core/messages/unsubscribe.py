"""The unsubscribe link of marketing e-mail: a token that names the member and the channel, signed
with a key derived from lps.pii.index_key (stable across restarts and shared by every process,
unlike a per-start session secret), so it works without signing in and cannot be forged for
another member. It does not expire: an old e-mail's link still unsubscribes."""
import base64
import hashlib
import hmac

PURPOSE = b"lps unsubscribe link v1"


def _key(settings) -> bytes:
    secret = settings.pii.index_key or ""
    return hmac.new(secret.encode(), PURPOSE, hashlib.sha256).digest()


def make_token(settings, member_id, channel) -> str:
    payload = base64.urlsafe_b64encode(f"{int(member_id)}:{channel}".encode()).decode().rstrip("=")
    signature = hmac.new(_key(settings), payload.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{payload}.{signature}"


def read_token(settings, token) -> tuple[int, str] | None:
    """(member id, channel) of a genuine token; None for anything else."""
    payload, _, signature = str(token or "").partition(".")
    expected = hmac.new(_key(settings), payload.encode(), hashlib.sha256).hexdigest()[:32]
    if not payload or not hmac.compare_digest(signature, expected):
        return None
    try:
        member, _, channel = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode().partition(":")
        return int(member), channel
    except (ValueError, UnicodeDecodeError):
        return None


def unsubscribe_url(settings, member_id, channel) -> str:
    return f"{settings.messages.public_url}/unsubscribe/{make_token(settings, member_id, channel)}"
