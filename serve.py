"""Serve the app with gevent (the async mode that holds a thousand phones at once).

Run as `python serve.py [--host H] [--port P]`, or `python serve.py --room [--address A]` to
serve the room's network from this laptop: it listens on every interface, finds the laptop's
address on the room's Wi-Fi and puts it in the join link and QR code (`make room`).
Monkey-patching must happen before anything else is imported. Without WORKSHOP_CONFIG it
serves the production config, which refuses to start without a strong SECRET_KEY (`make run`
asks for development explicitly).
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

from config import ConfigError  # noqa: E402
from workshop import create_app  # noqa: E402
from workshop.collector import collect_when_quiet, tune_garbage_collector  # noqa: E402
from workshop.extensions import socketio  # noqa: E402
from workshop.group_commit import busy  # noqa: E402
from workshop.network import choose, interfaces  # noqa: E402
from workshop.serving import make_server  # noqa: E402
from workshop.voting import clock  # noqa: E402


def room_address(port: int, wanted: str | None) -> str | None:
    """Pick the room's address, print what phones open, and warn when the choice is unsure."""
    choice = choose(interfaces(), wanted)
    if choice.address is None:
        print("serve.py: this laptop has no address on a local network: phones cannot reach "
              "it. Join the room's Wi-Fi (or start a hotspot) and start again, or give "
              "--address.", flush=True)
        return None
    print(f"Phones join at http://{choice.address}:{port}/ (the join link and QR code say so).",
          flush=True)
    if choice.others:
        others = ", ".join(f"{i.address} ({i.name})" for i in choice.others)
        print(f"This laptop is on several networks; also {others}. If phones cannot reach the "
              f"address above, start again with --address and one of these "
              f"(make room ADDRESS=...).", flush=True)
    return f"http://{choice.address}:{port}"


def main() -> None:
    """Parse the address, build the app (or explain why not) and serve until stopped."""
    parser = argparse.ArgumentParser(description="Serve Workshop (gevent).")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    parser.add_argument("--room", action="store_true",
                        help="listen on the room's network and give phones this laptop's address")
    parser.add_argument("--address", default=os.environ.get("ADDRESS") or None,
                        help="with --room: the address phones should use, if not the one found")
    args = parser.parse_args()
    try:
        app = create_app(os.environ.get("WORKSHOP_CONFIG") or "production")
    except ConfigError as exc:
        sys.exit(f"serve.py: not starting: {exc}")
    try:
        tune_garbage_collector(os.environ.get("GC_THRESHOLDS"))
    except ValueError as exc:
        sys.exit(f"serve.py: not starting: {exc}")
    host = args.host
    if args.room:
        host = "0.0.0.0"  # noqa: S104  (the room's phones must reach this laptop)
        public_url = room_address(args.port, args.address)
        if public_url:
            app.config["PUBLIC_URL"] = public_url
    try:
        server = make_server(app, host, args.port)
    except ConfigError as exc:
        sys.exit(f"serve.py: not starting: {exc}")
    clock.resume(app)  # ballots that close while the server was down close now
    socketio.start_background_task(collect_when_quiet, busy)
    server.serve_forever()


if __name__ == "__main__":
    main()
