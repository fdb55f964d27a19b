"""`flask` commands for operators: create accounts, seed the demo workshop."""

from __future__ import annotations

import click
from flask import Flask, current_app

from workshop.agenda.qr import join_url
from workshop.auth.services import create_user
from workshop.errors import WorkshopError
from workshop.seed import DEMO_FACILITATOR, DEMO_ORGANISER, seed_demo


def register(app: Flask) -> None:
    """Add the commands to the app's CLI."""

    @app.cli.command("create-user")
    @click.option("--email", required=True)
    @click.option("--name", default="")
    @click.option("--role", type=click.Choice(["organiser", "facilitator"]), required=True)
    @click.password_option()
    def create_user_command(email: str, name: str, role: str, password: str) -> None:
        """Create an organiser or facilitator account."""
        try:
            user = create_user(email, name, password, role)
        except WorkshopError as exc:
            details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
            raise click.ClickException(f"{exc.message} {details}".strip()) from None
        click.echo(f"Created {user.role} {user.email}")

    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Create the demo workshop (idempotent) and print how to get in."""
        workshop = seed_demo()
        with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
            base = current_app.config["PUBLIC_URL"].rstrip("/")
            click.echo(f"Demo workshop:     {workshop.title}")
            click.echo(f"Organiser login:   {DEMO_ORGANISER[0]} / {DEMO_ORGANISER[2]}")
            click.echo(f"Facilitator login: {DEMO_FACILITATOR[0]} / {DEMO_FACILITATOR[2]}")
            click.echo(f"Login page:        {base}/login")
            click.echo(f"Join code:         {workshop.join_code}  ({join_url(workshop)})")
            click.echo(f"Console:           {base}/w/{workshop.id}/console")
            click.echo(
                f"Projector:         {base}/w/{workshop.id}/projector?key={workshop.projector_key}"
            )
