"""The unsubscribe link of marketing e-mail, `/unsubscribe/{token}`: GET shows a page with one
button (a link opened by a mail scanner changes nothing), POST withdraws the member's consent for
that channel. Mail programs that offer one-click unsubscribe (RFC 8058, the List-Unsubscribe-Post
header the worker adds) POST to the same address. The signed token is the authority, so the page
needs no sign-in and no CSRF token; a token that is not genuine answers 404.

Registered with add_view in lps_core.messages.includeme (views are otherwise declared only by the
API and the screens)."""
from html import escape

from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response

from lps_core.messages.consent import set_consent
from lps_core.messages.unsubscribe import read_token

PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>退订 / Unsubscribe</title></head>
<body><main>{content}</main></body></html>"""


def _member_and_channel(request):
    found = read_token(request.lps_settings, request.matchdict["token"])
    if found is None:
        raise HTTPNotFound()
    return found


def unsubscribe_page(request):
    _member_and_channel(request)
    content = (f'<h1>退订推广消息 / Unsubscribe</h1>'
               f'<p>不再通过此渠道接收推广消息？服务通知（如验证码、申诉结果）不受影响。</p>'
               f'<p>Stop receiving promotional messages on this channel? Service messages (sign-in codes, '
               f'appeal results) still arrive.</p>'
               f'<form method="post" action="{escape(request.path)}"><button type="submit">'
               f'退订 / Unsubscribe</button></form>')
    return Response(PAGE.format(content=content), content_type="text/html", charset="utf-8")


def unsubscribe(request):
    member_id, channel = _member_and_channel(request)
    from lps_core.members.models import Member

    if request.dbsession.get(Member, member_id) is None:
        raise HTTPNotFound()
    set_consent(request.dbsession, member_id, channel, False, source="unsubscribe")
    content = ("<h1>已退订 / Unsubscribed</h1><p>您将不再通过此渠道收到推广消息。您可以随时在会员网站上重新订阅。</p>"
               "<p>You will no longer receive promotional messages on this channel. You can subscribe again on "
               "the members' site at any time.</p>")
    return Response(PAGE.format(content=content), content_type="text/html", charset="utf-8")


def includeme(config):
    from pyramid.security import NO_PERMISSION_REQUIRED

    config.add_route("messages.unsubscribe", "/unsubscribe/{token}")
    config.add_view(unsubscribe_page, route_name="messages.unsubscribe", request_method="GET",
                    permission=NO_PERMISSION_REQUIRED)
    config.add_view(unsubscribe, route_name="messages.unsubscribe", request_method="POST",
                    permission=NO_PERMISSION_REQUIRED, require_csrf=False)
