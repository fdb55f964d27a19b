"""Serve the app with gevent (the async mode that holds a thousand phones at once).

Run as `python serve.py [--host H] [--port P]`; monkey-patching must happen before
anything else is imported.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402

from workshop import create_app  # noqa: E402
from workshop.extensions import socketio  # noqa: E402


def main() -> None:
    """Parse the address and serve until stopped."""
    parser = argparse.ArgumentParser(description="Serve Workshop (gevent).")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    args = parser.parse_args()
    app = create_app()
    socketio.run(app, host=args.host, port=args.port, log_output=False)


if __name__ == "__main__":
    main()
