"""Operator commands."""

from sqlalchemy import func, select

from portal.accounts.models import Account, GiftPolicyChange, User
from portal.accounts.passwords import verify_password
from portal.seed import DEMO_PASSWORD


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_users_create_makes_a_login(app, make, session):
    account = make.account("Northwind Health")
    result = run(
        app,
        "users",
        "create",
        "--email",
        " Ana@Northwind.example",
        "--password",
        "a-long-password-1",
        "--role",
        "advocate",
        "--account",
        "northwind health",
    )
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User).where(User.email == "ana@northwind.example"))
    assert user.account_id == account.id
    assert verify_password(user.password_hash, "a-long-password-1")
    assert user.consents == []  # they opt in themselves


def test_users_create_refuses_bad_input_on_stderr(app, make, session):
    make.admin("taken@vouch.example")
    cases = [
        (
            ["--email", "x@example.com", "--password", "a-long-password-1", "--account", "Nope"],
            "No account is named 'Nope'",
        ),
        (
            ["--email", "not-an-email", "--password", "a-long-password-1", "--role", "admin"],
            "is not a valid email address",
        ),
        (
            [
                "--email",
                "taken@vouch.example",
                "--password",
                "a-long-password-1",
                "--role",
                "admin",
            ],
            "taken@vouch.example already has a login.",
        ),
        (
            ["--email", "y@example.com", "--password", "short", "--role", "admin"],
            "Use at least 10 characters.",
        ),
        (
            ["--email", "z@example.com", "--password", "a-long-password-1", "--role", "advocate"],
            "An advocate must belong to an account.",
        ),
    ]
    for args, message in cases:
        result = run(app, "users", "create", *args)
        assert result.exit_code == 1, args
        assert message in result.stderr, result.stderr
    assert session.scalar(select(func.count()).select_from(User)) == 1


def test_seed_demo_is_idempotent(app, session):
    first = run(app, "seed-demo")
    assert "records created" in first.output
    counts = (
        session.scalar(select(func.count()).select_from(User)),
        session.scalar(select(func.count()).select_from(Account)),
        session.scalar(select(func.count()).select_from(GiftPolicyChange)),
    )
    # 2 staff, 2 sales, 7 demo advocates and 120 more on 60 roster accounts: enough to page
    assert counts == (131, 65, 3)
    second = run(app, "seed-demo")
    assert "up to date" in second.output
    assert session.scalar(select(func.count()).select_from(User)) == 131
    admin = session.scalar(select(User).where(User.email == "admin@vouch.example"))
    assert verify_password(admin.password_hash, DEMO_PASSWORD)
    assert "up to date" in run(app, "seed-demo", "--if-empty").output
