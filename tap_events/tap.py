"""tap-events: telecom audit and event logs from Twilio and Telnyx."""

from __future__ import annotations

import contextlib
import logging
import sys
import typing as t
from functools import cached_property, partial

import orjson
from dotenv import find_dotenv
from singer_sdk import Stream, Tap
from singer_sdk.configuration._dict_config import merge_missing_config_jsonschema, parse_environment_config
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError
from singer_sdk.helpers._classproperty import classproperty
from singer_sdk.helpers.capabilities import EMIT_ACTIVATE_VERSION_CONFIG
from typing_extensions import override

from tap_events import log_lines, monitor, serverless, taskrouter, telnyx
from tap_events.batches import StateGate
from tap_events.client import TapEventsStream
from tap_events.output import EventsWriter, TargetStoppedReading, garbage_collection_for_records, silence_stdout
from tap_events.report import RunIncompleteError, RunReport, report_json, report_lines
from tap_events.run import RunContext
from tap_events.settings import SETTINGS, schema_errors, setting_errors, telnyx_configured, twilio_configured
from tap_events.shards import configured_shard
from tap_events.subaccounts import TwilioDirectory
from tap_events.twilio import TwilioStream

TWILIO_STREAMS: list[type[TapEventsStream]] = [*monitor.STREAMS, *taskrouter.STREAMS, *serverless.STREAMS]
TELNYX_STREAMS: list[type[TapEventsStream]] = [*telnyx.STREAMS]


class TapEvents(Tap):
    """Singer tap for Twilio Monitor, TaskRouter, Serverless and Telnyx audit events."""

    name = "tap-events"
    message_writer_class = EventsWriter

    config_jsonschema = SETTINGS.to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        log_lines.install(self.logger, logging.getLogger(log_lines.SDK_LOGGER))
        super().__init__(*args, **kwargs)
        #: In BATCH mode, STATE waits for the BATCH message of the records it claims.
        self._state_writer = self.run.state_gate

    @cached_property
    def run(self) -> RunContext:
        """What every stream of this run shares (run.py): made when the SDK builds the first
        stream (inside `Tap.__init__`, after the settings and the message writer exist)."""
        run = RunContext(
            writer=self.message_writer,
            state_gate=StateGate(self.message_writer),
            progress_interval_seconds=float(self.config.get("progress_interval_seconds", 5)),
        )
        #: The Twilio accounts of the run's shard, subaccounts found at run time (subaccounts.py).
        run.twilio_accounts = TwilioDirectory(self.config, run.report, self.logger)
        return run

    @property
    def run_report(self) -> RunReport:
        """Gaps and failed partitions, said again when the run ends (see report.py)."""
        return self.run.report

    def build_streams(self, types: t.Iterable[type[TapEventsStream]]) -> list[Stream]:
        """Each stream with the run's shared objects, and its routine SDK lines at DEBUG (log_lines.py)."""
        streams: list[Stream] = []
        for stream_type in types:
            stream = stream_type(tap=self, run=self.run)
            log_lines.install(stream.logger)
            streams.append(stream)
        return streams

    @override
    def _handle_termination(self, signum: int, frame: t.Any) -> None:
        """SIGTERM/SIGINT: the SDK writes the state as it is (whole windows only, windows.py) and
        exits 0, so a stopped run would look finished to a scheduler: exit 128 + the signal instead.
        A signal that arrives while a line is being written waits for the write (`EventsWriter`)."""
        writer = self.message_writer
        if isinstance(writer, EventsWriter) and writer.defer_while_writing(
            partial(self._handle_termination, signum, frame)
        ):
            return
        # The SDK writes a state only when it differs from its last STATE, which lines written
        # since (a page, just before the bookmark moves over it) would follow: it is written
        # again as the run's last word, unless a batch is being filled (batches.StateGate).
        self._state_writer._last_emitted_state = None
        with contextlib.suppress(SystemExit):
            super()._handle_termination(signum, frame)
        self.logger.warning("Stopped by signal %d: STATE written for the windows read whole; exiting non-zero.", signum)
        sys.exit(128 + signum)

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """The SDK's validation fills in defaults; its messages quote the offending value (maybe a
        secret), so they are replaced by ours."""
        if super()._validate_config(raise_errors=False):
            errors = schema_errors(self.config_jsonschema, self._config)
        else:
            errors = setting_errors(self._config)
        if errors and raise_errors:
            summary = "Invalid settings, nothing was requested: " + " ".join(errors)
            raise ConfigValidationError(summary, errors=[summary], schema=None)
        return errors

    @classmethod
    @override
    def append_builtin_config(cls, config_jsonschema: dict) -> None:
        """The SDK's built-in settings, and `emit_activate_version_messages`: the SDK honours it
        (full-table streams) but lists it only for taps that declare it."""
        super().append_builtin_config(config_jsonschema)
        merge_missing_config_jsonschema(EMIT_ACTIVATE_VERSION_CONFIG, config_jsonschema)

    @classproperty
    @override
    def _env_var_config(cls) -> dict[str, t.Any]:
        """`--config ENV`: TAP_EVENTS_* variables, and a `.env` in the working directory or above it.

        The SDK looks for `.env` from its own installed location instead, which misses the user's.
        """
        schema = cls.config_jsonschema
        cls.append_builtin_config(schema)
        return parse_environment_config(schema, cls._env_var_prefix, dotenv_path=find_dotenv(usecwd=True))

    @classmethod
    @override
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: t.Any = None,
        state: t.IO[str] | None = None,
        catalog: t.IO[str] | None = None,
    ) -> None:
        """`Tap.invoke`'s steps, so that the run's tap is at hand when it ends: its closing lines and
        closing report are logged (on success and failure alike), a failed partition makes the exit
        status non-zero, and an API failure ends the run with its one-paragraph message, not a traceback."""
        super(Tap, cls).invoke(about=about, about_format=about_format)  # --about prints and exits
        cls.print_version(print_fn=cls.logger.info)
        try:
            with garbage_collection_for_records():
                tap = cls(
                    config=config.config if config else {},
                    state=None if state is None else orjson.loads(state.read()),
                    catalog=None if catalog is None else orjson.loads(catalog.read()),
                    parse_env_config=config.parse_env if config else False,
                    validate_config=True,
                )
                synced = False
                try:
                    tap.know_twilio_accounts()
                    tap.sync_all()
                    synced = True
                finally:
                    for line in tap.run_report.closing_lines():
                        cls.logger.warning("%s", line)
                    tap.log_closing_report(succeeded=synced)
                if tap.run_report.failed:
                    raise RunIncompleteError(tap.run_report.failure_summary())
        except FatalAPIError as exc:
            cls.logger.error("%s", exc)
            sys.exit(1)
        except TargetStoppedReading:
            # Worker threads stopped with the run (concurrency.py); nothing more can reach the target.
            silence_stdout()
            cls.logger.error(
                "The target stopped reading (its input closed mid-run): the tap stops. Everything up to the "
                "last STATE the target received was written before that STATE; a run from that STATE reads "
                "the rest."
            )
            sys.exit(1)

    def know_twilio_accounts(self) -> None:
        """Before `sync_all`: the Twilio accounts are known first (subaccounts found once, subaccounts.py);
        with none in the run's shard, the Twilio streams are not read (the SDK would read one empty
        partition)."""
        twilio = [stream for stream in self.streams.values() if isinstance(stream, TwilioStream)]
        if twilio and not self.run.twilio_accounts.accounts():
            self.logger.info(
                "No Twilio account in shard %s: the Twilio streams are not read.", configured_shard(self.config)
            )
            for stream in twilio:
                stream.selected = False

    def log_closing_report(self, *, succeeded: bool) -> None:
        """The run report for a person, then as one JSON line for monitoring (README, "Watching a run")."""
        report = self.run_report.report(self.final_bookmarks(), succeeded=succeeded)
        for line in report_lines(report):
            self.logger.info("%s", line)
        self.logger.info("%s", report_json(report))

    def final_bookmarks(self) -> dict[tuple[str, str], str | None]:
        """(stream, partition) -> its bookmark in the tap's state, which the last STATE carried."""
        bookmarks: dict[tuple[str, str], str | None] = {}
        for name, stream_state in (self.state.get("bookmarks") or {}).items():
            stream = self.streams.get(name)
            if stream is None or not isinstance(stream, TapEventsStream):
                continue
            for partition in stream_state.get("partitions") or [stream_state]:
                key = (name, stream.describe_partition(partition.get("context")))
                bookmarks[key] = partition.get("replication_key_value")
        return bookmarks

    @override
    def discover_streams(self) -> list[Stream]:
        config = self._config
        if not twilio_configured(config) and not telnyx_configured(config):
            # --about and --discover without credentials: describe every stream.
            return self.build_streams((*TWILIO_STREAMS, *TELNYX_STREAMS))
        stream_types: list[type[TapEventsStream]] = []
        for provider, configured, types in (
            ("Twilio", twilio_configured(config), TWILIO_STREAMS),
            ("Telnyx", telnyx_configured(config), TELNYX_STREAMS),
        ):
            if not configured:
                self.logger.info("%s credentials are not set: skipping the %s streams.", provider, provider)
            elif provider == "Telnyx" and not configured_shard(config).holds_telnyx:
                self.logger.info("Shard %s: the Telnyx streams are read by shard 1.", configured_shard(config))
            else:
                stream_types += types
        return self.build_streams(stream_types)


if __name__ == "__main__":
    TapEvents.cli()
