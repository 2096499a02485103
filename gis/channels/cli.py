"""``wangge channels list|send``: which channels are configured, and one test message
through one of them (to check credentials and templates before a fire needs them)."""

from __future__ import annotations

import argparse
import dataclasses
import json

from gis.channels.base import Message
from gis.channels.registry import enabled_channels
from gis.settings import get_settings


def _list(args: argparse.Namespace) -> int:
    channels = enabled_channels(get_settings())
    print("\n".join(sorted(channels)) if channels else "no channel configured")
    return 0


def _send(args: argparse.Namespace) -> int:
    channels = enabled_channels(get_settings())
    if args.channel not in channels:
        configured = ", ".join(sorted(channels)) or "none"
        print(f"channel {args.channel!r} is not configured (configured: {configured})")
        return 2
    message = Message(
        address=args.to,
        title=args.title,
        text=args.text,
        params={"title": args.title, "place": args.place, "task": "0"},
    )
    receipt = channels[args.channel].send(message)
    print(json.dumps(dataclasses.asdict(receipt), ensure_ascii=False))
    return 0 if receipt.status == "sent" else 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("channels", help="outbound channels (docs/channels.md)")
    sub = parser.add_subparsers(dest="channels_command", metavar="ACTION", required=True)
    sub.add_parser("list", help="the configured channels").set_defaults(handler=_list)
    send = sub.add_parser("send", help="send one test message, print its receipt as JSON")
    send.add_argument("channel", help="e.g. wecom_app, dingtalk_robot, aliyun_sms")
    send.add_argument("to", help="WeCom userid, phone number or push subscription JSON")
    send.add_argument("--title", default="测试消息 (test)")
    send.add_argument("--text", default="网格平台渠道测试 (channel test)")
    send.add_argument("--place", default="")
    send.set_defaults(handler=_send)
