"""moto's DynamoDB on one thread.

moto_server's default threaded werkzeug server does not make conditional writes atomic (two
winners of one conditional update were seen here), so a race test would flake on correct code.
Serving one request at a time makes every conditional write atomic, as DynamoDB's are.
"""

import argparse

import moto.server
from werkzeug.serving import run_simple


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    app = moto.server.DomainDispatcherApplication(moto.server.create_backend_app)
    run_simple(args.host, args.port, app, threaded=False, use_reloader=False)


if __name__ == "__main__":
    main()
