"""``wangge api …``: serve the API, manage logins, sweep reminders."""

from __future__ import annotations

import argparse
import getpass
from datetime import datetime

import psycopg
import uvicorn

from api.app import create_app
from api.reminders import send_reminders
from api.sessions import close_user_sessions
from api.users import create_demo_users, create_user
from gis.db import connect
from gis.models import APP_ROLES, SCOPE_LEVELS
from gis.settings import get_settings


def _serve(args: argparse.Namespace) -> int:
    settings = get_settings()
    uvicorn.run(
        create_app(settings),
        host=args.host or settings.api_host,
        port=args.port or settings.api_port,
        log_level="info",
        # Forwarded headers are believed only from WANGGE_API_TRUSTED_PROXIES (api.proxy),
        # not from uvicorn's own default list.
        proxy_headers=False,
    )
    return 0


def _user_add(args: argparse.Namespace) -> int:
    password = args.password or getpass.getpass("密码 (password): ")
    try:
        with connect(get_settings().database_url) as conn:
            user = create_user(
                conn,
                username=args.username,
                password=password,
                role=args.role,
                display_name=args.display_name,
                scope_level=args.scope_level,
                scope_code=args.scope_code,
                worker_id=args.worker_id,
                locale=args.locale,
                replace=args.replace,
            )
    except psycopg.errors.IntegrityError as exc:
        print(f"无法创建用户 (cannot create user): {exc.diag.message_primary}")
        return 1
    scope = f" {user.scope_level}:{user.scope_code}" if user.scope_level else ""
    print(f"用户 {user.username} ({user.role}{scope}) 已保存 (saved)")
    return 0


def _user_demo(args: argparse.Namespace) -> int:
    with connect(get_settings().database_url) as conn:
        logins = create_demo_users(conn)
    print("演示账号 (demo logins — development passwords, never use in production):")
    for login in logins:
        print(f"  {login.username:<24} {login.password:<28} {login.role:<12} {login.scope}")
    return 0


def _user_revoke(args: argparse.Namespace) -> int:
    with connect(get_settings().database_url) as conn:
        ended = close_user_sessions(conn, args.username)
    print(f"已注销 {args.username} 的 {ended} 个登录 (ended {ended} sessions)")
    return 0


def _remind(args: argparse.Namespace) -> int:
    settings = get_settings()
    with connect(settings.database_url) as conn:
        sent = send_reminders(conn, datetime.now().astimezone(), settings)
    print(f"已发送 {sent} 条催办提醒 (queued {sent} reminders)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    api = subparsers.add_parser("api", help="HTTP API: serve, logins, reminders")
    api_sub = api.add_subparsers(dest="api_command", metavar="ACTION", required=True)

    serve = api_sub.add_parser("serve", help="run the API (uvicorn)")
    serve.add_argument("--host", help="default: settings api_host")
    serve.add_argument("--port", type=int, help="default: settings api_port")
    serve.set_defaults(handler=_serve)

    user = api_sub.add_parser("user", help="API logins")
    user_sub = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = user_sub.add_parser("add", help="create a login (asks for the password)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=APP_ROLES)
    add.add_argument("--scope-level", choices=SCOPE_LEVELS)
    add.add_argument("--scope-code", help="district (6), street (12), community (12) code")
    add.add_argument("--worker-id", help="the worker record of a grid worker, cadre, department")
    add.add_argument("--display-name")
    add.add_argument("--locale", default="zh-CN", choices=("zh-CN", "en"))
    add.add_argument("--password", help="instead of the prompt (scripts only)")
    add.add_argument("--replace", action="store_true", help="overwrite an existing login")
    add.set_defaults(handler=_user_add)
    demo = user_sub.add_parser("demo", help="create the demo logins and print them")
    demo.set_defaults(handler=_user_demo)
    revoke = user_sub.add_parser(
        "revoke", help="end every session of a login (e.g. a lost phone's device session)"
    )
    revoke.add_argument("username")
    revoke.set_defaults(handler=_user_revoke)

    remind = api_sub.add_parser("remind", help="queue reminders for tasks left open, once")
    remind.set_defaults(handler=_remind)
