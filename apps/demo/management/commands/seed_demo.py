"""``manage.py seed_demo``: fill an empty database with demo gardeners, forum, identification
requests and care cards (the generation itself lives in ``apps.demo.seeding``; ``--scale``
in ``apps.demo.seeding.scaled``)."""

import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from apps.accounts.models import User
from apps.demo import seeding
from apps.demo.seeding import scaled


class Command(BaseCommand):
    help = (
        "Seed demo data: a gardener with lots of data, a moderator, a new gardener and N more, forums, "
        "identification requests with generated images, care cards. Deterministic for a given --seed."
    )

    def add_arguments(self, parser):
        defaults = seeding.SeedSizes()
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default 42): same seed, same data.")
        parser.add_argument(
            "--users",
            type=int,
            default=defaults.users,
            help=f"Gardeners besides gardener, moderator and newbie (default {defaults.users}).",
        )
        parser.add_argument(
            "--topics", type=int, default=defaults.topics, help=f"Forum topics (default {defaults.topics})."
        )
        parser.add_argument(
            "--posts",
            type=int,
            default=defaults.posts,
            help=f"Forum posts, opening posts included (default {defaults.posts}).",
        )
        parser.add_argument(
            "--requests",
            type=int,
            default=defaults.requests,
            help=f"Identification requests (default {defaults.requests}).",
        )
        parser.add_argument(
            "--care-cards", type=int, default=defaults.care_cards, help=f"Care cards (default {defaults.care_cards})."
        )
        parser.add_argument(
            "--scale",
            choices=("demo", "small", "large"),
            default="demo",
            help="demo (default): the sizes above, any database. small / large (PostgreSQL only): benchmark data "
            "written with COPY; large is 100,000 gardeners, 1,000,000 posts, 1,000,000 identification requests and "
            "50,000 care cards (a few minutes), small the same shape at 1/50. The size options do not apply.",
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--flush",
            action="store_true",
            help="Delete the demo data (every non-superuser user and all forum, identification and care-card rows; "
            "the species catalog stays), then seed again.",
        )
        mode.add_argument(
            "--if-empty",
            action="store_true",
            help="Seed only when the database has no users at all (used by make run).",
        )

    def handle(self, *args, **options):
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError(
                "seed_demo is refused under these settings (DEMO_DATA_ALLOWED is off, as in production): it creates "
                "accounts with published passwords and --flush deletes every member. Set DEMO_DATA_ALLOWED=true only "
                "for a scratch database."
            )
        if options["scale"] != "demo":
            return self._handle_scaled(options)
        started = time.perf_counter()
        verbose = options["verbosity"] >= 1
        sizes = seeding.SeedSizes(
            users=options["users"],
            topics=options["topics"],
            posts=options["posts"],
            requests=options["requests"],
            care_cards=options["care_cards"],
        )
        try:
            sizes.validate()
        except ValueError as error:
            raise CommandError(str(error)) from error

        if options["if_empty"] and User.objects.exists():
            if verbose:
                self.stdout.write("seed_demo skipped: the database already has users (--if-empty).")
            return
        if not options["flush"] and seeding.demo_data_exists():
            if verbose:
                self.stdout.write(
                    f"The demo data is already there (user '{seeding.GARDENER.username}' exists); nothing was changed. "
                    "Use --flush to delete the demo data and seed again."
                )
            return

        bar = tqdm(
            total=len(seeding.SEED_STEPS) + (1 if options["flush"] else 0),
            desc="seed_demo",
            unit="step",
            file=sys.stderr,
            disable=not verbose or not sys.stderr.isatty(),
            leave=False,
        )
        steps_begun = [0]

        def say(line: str) -> None:
            if verbose:
                with tqdm.external_write_mode():  # lift the bar off the terminal while we print
                    self.stdout.write(line)

        def on_step(label: str) -> None:
            if steps_begun[0]:
                bar.update(1)
            steps_begun[0] += 1
            bar.set_description(label)
            say(f"  [{time.perf_counter() - started:5.1f} s] {label}")

        try:
            with transaction.atomic():
                if options["flush"]:
                    on_step("Deleting the old demo data")
                    deleted = seeding.demo_data_flush()
                    say(f"    deleted {sum(deleted.values())} rows")
                else:
                    conflicts = seeding.demo_data_conflicts()
                    if conflicts:
                        raise CommandError(
                            "Cannot seed: " + "; ".join(conflicts) + ". Use --flush to delete the demo data first."
                        )
                result = seeding.demo_data_seed(sizes=sizes, seed=options["seed"], on_step=on_step)
            bar.update(bar.total - bar.n)
        finally:
            bar.close()

        if verbose:
            self._print_summary(result=result, seed=options["seed"], seconds=time.perf_counter() - started)

    def _print_summary(self, *, result: seeding.SeedResult, seed: int, seconds: float) -> None:
        write = self.stdout.write
        counts = seeding.demo_data_counts()
        width = max(len(label) for label in counts)
        write("")
        write(self.style.MIGRATE_HEADING(f"Demo data (seed {seed})"))
        for label, count in counts.items():
            write(f"  {label:<{width}}  {count:>6}")
        write(f"  {'stored images':<{width}}  {len(result.stored_images):>6}")

        rows = [(a.username, a.password, a.role) for a in result.accounts]
        if result.other_usernames:
            shown = ", ".join(result.other_usernames[:3])
            more = len(result.other_usernames) - 3
            rows.append(
                (shown + (f" (+{more} more)" if more > 0 else ""), result.other_password, "other demo gardeners")
            )
        headers = ("username", "password", "what for")
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
        line = "  +" + "+".join("-" * (w + 2) for w in widths) + "+"
        write("")
        write(self.style.MIGRATE_HEADING("Demo sign-ins"))
        write(line)
        write("  | " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |")
        write(line)
        for row in rows:
            write("  | " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths)) + " |")
        write(line)
        write("")
        write(self.style.SUCCESS(f"Seeded in {seconds:.1f} s."))

    # --- --scale small / large (apps.demo.seeding.scaled) --------------------------------

    def _handle_scaled(self, options) -> None:
        started = time.perf_counter()
        verbose = options["verbosity"] >= 1
        scale = scaled.SCALES[options["scale"]]
        defaults = seeding.SeedSizes()
        changed = [
            f"--{name.replace('_', '-')}"
            for name in ("users", "topics", "posts", "requests", "care_cards")
            if options[name] != getattr(defaults, name)
        ]
        if changed:
            raise CommandError(
                f"{', '.join(changed)} apply to --scale demo only; --scale {scale.name} has fixed sizes."
            )
        try:
            scaled.ensure_postgresql()
        except scaled.ScaleUnavailable as error:
            raise CommandError(str(error)) from None
        if options["if_empty"] and User.objects.exists():
            if verbose:
                self.stdout.write("seed_demo skipped: the database already has users (--if-empty).")
            return
        if not options["flush"] and seeding.demo_data_exists():
            present = scaled.scaled_seed_present()
            if verbose:
                self.stdout.write(
                    "The demo data is already there "
                    f"({'scale ' + present if present else 'user ' + repr(seeding.GARDENER.username) + ' exists'}); "
                    "nothing was changed. Use --flush to delete it and seed again."
                )
            return

        bar = tqdm(
            total=scale.planned_rows,
            desc=f"seed_demo --scale {scale.name}",
            unit="rows",
            unit_scale=True,
            file=sys.stderr,
            disable=not verbose or not sys.stderr.isatty(),
            leave=False,
            mininterval=0.5,
        )

        def say(line: str) -> None:
            if verbose:
                with tqdm.external_write_mode():
                    self.stdout.write(line)

        def on_step(label: str) -> None:
            bar.set_description(label[:60])
            say(f"  [{time.perf_counter() - started:6.1f} s] {label}")

        try:
            if options["flush"]:
                on_step("Deleting the old demo data (TRUNCATE)")
                scaled.scaled_data_flush()
            else:
                conflicts = seeding.demo_data_conflicts()
                if conflicts:
                    raise CommandError(
                        "Cannot seed: " + "; ".join(conflicts) + ". Use --flush to delete the demo data first."
                    )
            result = scaled.scaled_data_seed(scale=scale, seed=options["seed"], on_step=on_step, on_rows=bar.update)
        finally:
            bar.close()
        if verbose:
            self._print_scaled_summary(result=result, seconds=time.perf_counter() - started)

    def _print_scaled_summary(self, *, result, seconds: float) -> None:
        write = self.stdout.write
        write("")
        write(self.style.MIGRATE_HEADING(f"Benchmark data: --scale {result.scale.name} (seed {result.seed})"))
        written = sorted(result.rows.items(), key=lambda item: -item[1])
        width = max(len(table) for table, _ in written)
        for table, count in written:
            write(f"  {table:<{width}}  {count:>10,}")
        write(f"  {'total rows':<{width}}  {sum(result.rows.values()):>10,}")
        write("")
        write(self.style.MIGRATE_HEADING("Time per step"))
        for label, step_seconds in result.seconds.items():
            write(f"  {step_seconds:7.1f} s  {label}")
        write("")
        fields = (
            "identification_request_count",
            "identified_plant_count",
            "post_count",
            "topic_count",
            "care_card_count",
            "trust_level",
        )
        write(self.style.MIGRATE_HEADING("Gardeners to measure"))
        for label, username in (("most active", result.most_active), ("quiet", result.quiet)):
            if not username:
                continue
            row = User.objects.filter(username=username).values(*fields).get()
            write(
                f"  {label:<11} {username:<22} requests {row['identification_request_count']:>6,}  identified "
                f"{row['identified_plant_count']:>6,}  posts {row['post_count']:>6,}  topics {row['topic_count']:>5,}  "
                f"care cards {row['care_card_count']:>3}  level {row['trust_level']}"
            )
        write("")
        write(
            f"  Checked {result.foreign_keys_checked} foreign keys (anti-joins"
            f"{'; triggers were off during COPY' if result.fk_triggers_disabled else ''}) and the counters of "
            f"{result.counters_checked_users} users against user_counters_recount: all consistent. "
            f"{result.indexes_rebuilt} secondary indexes were built after the load."
        )
        write(
            "  Sign in as "
            + ", ".join(f"{a.username} / {a.password}" for a in result.accounts)
            + f"; every other gardener's password is {result.other_password}."
        )
        write(self.style.SUCCESS(f"Seeded --scale {result.scale.name} in {seconds:.1f} s."))
