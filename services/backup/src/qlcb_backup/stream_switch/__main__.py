"""`python -m qlcb_backup.stream_switch --restored events_<suffix> --keep-as <name>`: with every
service but backup stopped, makes the event streams a verified restore wrote (`EVENTS_<SUFFIX>_<stream>`) the
live streams, the former ones kept as `<NAME>_<stream>`, and each durable consumer at its position
in the set (docs/operations.md, "The event streams"). Connects as a NATS user that may create and
delete streams (`ops`): QLCB_STREAM_SWITCH_NATS_URL, _NATS_USER, _NATS_PASSWORD, and the TLS
settings as the services take them. Exits 0 when switched, 1 when refused or failed, saying why."""

from __future__ import annotations

import argparse
import asyncio
import sys

from pydantic_settings import SettingsConfigDict

from qlcb_backup.stores.jetstream import JetStreamError
from qlcb_backup.stream_switch.switch import SwitchedStream, switch_streams
from qlcb_common.errors import ServiceError, Unavailable
from qlcb_common.nats_connection import connect
from qlcb_common.settings import NatsClientSettings


class StreamSwitchSettings(NatsClientSettings):
    model_config = SettingsConfigDict(env_prefix="QLCB_STREAM_SWITCH_", extra="ignore", hide_input_in_errors=True)


async def _run(args: argparse.Namespace, settings: StreamSwitchSettings) -> list[SwitchedStream]:
    try:
        nc = await asyncio.wait_for(
            connect(settings, name="qlcb-stream-switch", timeout=args.connect_timeout), args.connect_timeout
        )
    except Exception as exc:
        raise Unavailable(f"Không kết nối được NATS {settings.nats_url}: {exc!r}") from exc
    try:
        return await switch_streams(nc, restored=args.restored, keep_as=args.keep_as, quiet_seconds=args.quiet_seconds)
    finally:
        await nc.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qlcb_backup.stream_switch", description=__doc__)
    parser.add_argument("--restored", required=True, help="the restore's target of the part 'events': events_<suffix>")
    parser.add_argument("--keep-as", required=True, help="the name the live streams are kept under")
    parser.add_argument(
        "--quiet-seconds", type=float, default=3.0, help="how long the live streams must be quiet first"
    )
    parser.add_argument("--connect-timeout", type=float, default=30.0)
    args = parser.parse_args(argv)
    try:
        switched = asyncio.run(_run(args, StreamSwitchSettings()))
    except (ServiceError, JetStreamError) as exc:
        print(f"Không chuyển luồng: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    for stream in switched:
        kept = (
            f"luồng cũ ({stream.kept_messages} tin) giữ ở {stream.kept_as}" if stream.kept_as else "không có luồng cũ"
        )
        consumers = ", ".join(f"{name} từ sau tin {floor}" for name, floor in stream.consumers) or "không có"
        print(f"{stream.stream}: {stream.messages} tin từ bản khôi phục; {kept}; người tiêu thụ: {consumers}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
