"""`lifecycle token create|list|revoke`: API tokens (only their hashes are stored)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sqlalchemy import Engine

from ..api.tokens import SCOPES, TokenStore
from ..app.ledger import Clock
from ..app.views import utc
from .common import CommandParser, json_output, line, print_json, print_table, wants_json


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    token = subparsers.add_parser("token", parents=[common], help="manage API tokens")
    actions = token.add_subparsers(
        dest="token_command", metavar="ACTION", required=True, parser_class=CommandParser
    )
    create = actions.add_parser(
        "create",
        parents=[common, json_output()],
        help="make a token and print it (once)",
        description="Prints a new random token once; only its SHA-256 is stored. The name is "
        "the default `actor` of the events the token records, and is never reused.",
    )
    create.add_argument(
        "--name", type=line, required=True, help="who uses the token (e.g. web-forms)"
    )
    create.add_argument(
        "--scope",
        action="append",
        required=True,
        choices=SCOPES,
        dest="scopes",
        help="repeat for several; admin grants all",
    )
    create.set_defaults(handler=create_token)
    listing = actions.add_parser(
        "list", parents=[common, json_output()], help="list tokens (never secrets)"
    )
    listing.set_defaults(handler=list_tokens)
    revoke = actions.add_parser(
        "revoke", parents=[common, json_output()], help="revoke a token by name"
    )
    revoke.add_argument("name", type=line, metavar="NAME")
    revoke.set_defaults(handler=revoke_token)


def _store(engine: Engine) -> TokenStore:
    store = TokenStore(engine)
    store.create_table()
    return store


def create_token(args: argparse.Namespace, engine: Engine, clock: Clock) -> int:
    secret = _store(engine).create(args.name, args.scopes, clock())
    if wants_json(args):
        print_json({"name": args.name.strip(), "scopes": sorted(set(args.scopes)), "token": secret})
    else:
        sys.stdout.write(secret + "\n")
        sys.stderr.write("Store this token now: it is not shown again.\n")
    return 0


def list_tokens(args: argparse.Namespace, engine: Engine) -> int:
    tokens = _store(engine).list()
    rows: list[dict[str, Any]] = [
        {
            "name": token.name,
            "scopes": list(token.scopes),
            "created_at": utc(token.created_at),
            "revoked_at": utc(token.revoked_at),
        }
        for token in tokens
    ]
    if wants_json(args):
        print_json({"tokens": rows})
    else:
        columns = ["name", "scopes", "created_at", "revoked_at"]
        table = [[row["name"], " ".join(row["scopes"]), *map(row.get, columns[2:])] for row in rows]
        print_table(None, columns, table)
    return 0


def revoke_token(args: argparse.Namespace, engine: Engine, clock: Clock) -> int:
    _store(engine).revoke(args.name, clock())
    if wants_json(args):
        print_json({"revoked": args.name})
    else:
        sys.stdout.write(f"Revoked {args.name}.\n")
    return 0
