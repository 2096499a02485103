"""``wangge db …`` and the other foundation subcommands."""

from __future__ import annotations

import argparse

from gis import admin, migrate
from gis.channels import cli as channels_cli
from gis.demo import commands as demo_commands
from gis.loaders import cli as loaders_cli
from gis.redistrict import cli as redistrict_cli
from gis.redistrict_apply import cli as plan_cli
from gis.settings import get_settings


def _db_upgrade(args: argparse.Namespace) -> int:
    url = get_settings().database_url
    if not admin.database_exists(url):
        admin.create_database(url)
        print(f"created database {admin.database_name(url)}")
    migrate.upgrade(url)
    print(f"database {admin.database_name(url)} is at the newest schema")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    db = subparsers.add_parser("db", help="database schema (create, migrate)")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = db_sub.add_parser("upgrade", help="create the database if missing and migrate it")
    up.set_defaults(handler=_db_upgrade)
    loaders_cli.register(subparsers)
    demo_commands.register(subparsers)
    channels_cli.register(subparsers)
    redistrict_cli.register(subparsers)
    plan_cli.register(subparsers)
