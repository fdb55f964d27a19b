"""Serve the app with gevent (the async mode that holds a thousand phones at once).

Run as `python serve.py [--host H] [--port P]`; monkey-patching must happen before
anything else is imported. Without WORKSHOP_CONFIG it serves the production config, which
refuses to start without a strong SECRET_KEY (`make run` asks for development explicitly).
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

from config import ConfigError  # noqa: E402
from workshop import create_app  # noqa: E402
from workshop.extensions import socketio  # noqa: E402


def main() -> None:
    """Parse the address, build the app (or explain why not) and serve until stopped."""
    parser = argparse.ArgumentParser(description="Serve Workshop (gevent).")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    args = parser.parse_args()
    try:
        app = create_app(os.environ.get("WORKSHOP_CONFIG") or "production")
    except ConfigError as exc:
        sys.exit(f"serve.py: not starting: {exc}")
    socketio.run(app, host=args.host, port=args.port, log_output=False)


if __name__ == "__main__":
    main()
