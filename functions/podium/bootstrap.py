"""The only module that reads the environment and wires real adapters.

Environment contract (set by the CDK construct in ``infra/``):

PODIUM_TABLE_NAME        the single DynamoDB table
PODIUM_WORK_QUEUE_URL    SQS queue of steps to execute (consumed by ``handlers.work``)
PODIUM_EVENT_QUEUE_URL   SQS queue of run starts, step results and timers (``handlers.advance``)
PODIUM_PAYLOAD_BUCKET    S3 bucket for large params and outputs
PODIUM_EVENT_BUS_NAME    EventBridge bus: run status changes are published to it; signals
                         and triggers (optional)
PODIUM_ALLOWED_FUNCTIONS comma-separated Lambda ARNs/names steps may invoke (optional, "*" = any)
PODIUM_HTTP_HOSTS        comma-separated hosts http steps may call (``host``, ``*.domain``,
                         ``host:port``); empty or unset: none
PODIUM_EXTERNAL_STEP_TYPES comma-separated external step types the props granted
                         (``ecs_task``, ``batch_job``, ``glue_job``, ``sfn_execution``);
                         empty: none; unset: all four
PODIUM_SCHEDULE_GROUP, PODIUM_SCHEDULER_ROLE_ARN, PODIUM_WORK_QUEUE_ARN, PODIUM_EVENT_QUEUE_ARN
                         timers longer than 15 minutes become one-time Scheduler schedules
                         (optional: without them, they hop through 15-minute SQS delays),
                         and cron/rate triggers recurring schedules in the same group
                         (without them, a push keeps them in memory: nothing fires)
PODIUM_WORK_DLQ_ARN, PODIUM_EVENT_DLQ_ARN
                         where a schedule's firing goes once Scheduler's retries (24 h)
                         are spent: the DLQ of the queue it sends to (optional: without
                         them, it is dropped)

Locally (``podium run``, ``podium runs``, ``podium dev``):

PODIUM_HOME              the local home directory (default ``.podium``): its SQLite file
                         ``podium.db`` keeps workflows, runs and queued messages

The CLI's remote commands (``remote_settings``):

PODIUM_CONFIG            the config file of targets (default ``~/.config/podium/config.toml``)
PODIUM_PROFILE           its profile to use (default: ``[default]``, else the stack ``Podium``)
AWS_REGION               the region, before the AWS profile's own
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from podium.service.context import Services
from podium.service.runtimes.registry import RUNTIMES

_lock = threading.Lock()
_services: Services | None = None


def services() -> Services:
    """The process-wide wiring: from the environment on Lambda, or as installed locally."""
    global _services
    if _services is None:
        with _lock:
            if _services is None:
                _services = from_environment(os.environ)
    return _services


def built() -> Services | None:
    """The wiring if it was built (or installed), else None: never builds it. For what
    runs after a failure, which may be the building itself (api.handler's flush)."""
    return _services


def install(wiring: Services | None) -> None:
    """The embedded runtime and tests put their own wiring in place (None resets)."""
    global _services
    _services = wiring


DEFAULT_HOME = ".podium"
HOME_DB = "podium.db"


def local_home(explicit: str | os.PathLike[str] | None = None, env: Any = None) -> Path:
    """The local home directory: ``explicit`` (``--home``), else $PODIUM_HOME, else
    ``.podium`` in the working directory. Its database is ``home / HOME_DB``."""
    if explicit is not None and str(explicit):
        path = Path(explicit)
        return path.parent if path.is_file() else path  # the database file names its home
    value = (os.environ if env is None else env).get("PODIUM_HOME", "").strip()
    return Path(value) if value else Path(DEFAULT_HOME)


def local_user(env: Any = None) -> str:
    """Who acts from the local CLI (recorded on a run's timeline): the login name."""
    env = os.environ if env is None else env
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        value = str(env.get(name, "")).strip()
        if value:
            return f"local:{value}"
    return "local:unknown"


def aws_region(env: Any = None) -> str:
    """The region this deployment runs in (Lambda sets $AWS_REGION), or ""."""
    env = os.environ if env is None else env
    return str(env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "")


REMOTE_SETTINGS = ("PODIUM_CONFIG", "PODIUM_PROFILE", "AWS_REGION")


def remote_settings() -> dict[str, str]:
    """What the CLI's remote commands read from the environment (cli/remote.py): the
    config file ($PODIUM_CONFIG), its profile ($PODIUM_PROFILE) and the region."""
    return {name: os.environ[name] for name in REMOTE_SETTINGS if name in os.environ}


def remote_target_configured(env: Any = None) -> bool:
    """Whether the user set up remote targets (``podium runs`` then defaults to a stack):
    $PODIUM_PROFILE or $PODIUM_CONFIG is set, or the default config file exists. An
    explicit $PODIUM_HOME means the local home."""
    env = os.environ if env is None else env
    if env.get("PODIUM_HOME", "").strip():
        return False
    if env.get("PODIUM_PROFILE") or env.get("PODIUM_CONFIG"):
        return True
    return Path("~/.config/podium/config.toml").expanduser().exists()


def aws_clients(
    region: str | None = None, endpoint_url: str | None = None, *, embedded: bool = False
) -> dict[str, Any]:
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    # Standard retries back off on throttling; DynamoDB gets more attempts because a
    # throttled conditional write is safe to repeat (it names the state it expects).
    # The embedded runtime's moto ignores signatures, and signing is a third of a call.
    signing: dict[str, Any] = {"signature_version": UNSIGNED} if embedded else {}
    base = {"region_name": region, "endpoint_url": endpoint_url}
    return {
        "dynamodb": boto3.client(
            "dynamodb",
            config=Config(retries={"mode": "standard", "max_attempts": 10}, **signing),
            **base,
        ),
        "sqs": boto3.client("sqs", config=Config(retries={"mode": "standard"}, **signing), **base),
        "lambda": boto3.client(
            "lambda",
            config=Config(retries={"mode": "standard"}, read_timeout=905, **signing),
            **base,
        ),
    }


def from_environment(env: Any) -> Services:
    from podium.adapters.clock import SystemClock, UlidGenerator
    from podium.adapters.dynamo_store import DynamoStateStore
    from podium.adapters.function_allowlist import FunctionAllowlist
    from podium.adapters.metrics import PowertoolsMetrics
    from podium.adapters.queues import SqsQueue
    from podium.adapters.runners import LambdaFunctionRunner

    missing = [
        name
        for name in ("PODIUM_TABLE_NAME", "PODIUM_WORK_QUEUE_URL", "PODIUM_EVENT_QUEUE_URL")
        if not env.get(name)
    ]
    if missing:
        raise RuntimeError(f"Podium is not configured: set {', '.join(missing)}")
    clients = aws_clients(env.get("AWS_REGION"), env.get("PODIUM_AWS_ENDPOINT_URL"))
    # "*" allows any function (IAM still decides); an empty value allows none.
    # A name without a region means this region's function, as the grant does.
    allowed = FunctionAllowlist.parse(
        env.get("PODIUM_ALLOWED_FUNCTIONS", ""), region=env.get("AWS_REGION")
    )
    clock = SystemClock()
    _structured_logs(env)
    work_queue = SqsQueue(clients["sqs"], env["PODIUM_WORK_QUEUE_URL"])
    event_queue = SqsQueue(clients["sqs"], env["PODIUM_EVENT_QUEUE_URL"])
    return Services(
        runtimes=RUNTIMES,
        timers=_timers(env, work_queue, event_queue, clock),
        schedules=_schedules(env),
        events=_events(env),
        payloads=_payloads(env),
        logs=_logs(env),
        metrics=PowertoolsMetrics(
            env.get("POWERTOOLS_METRICS_NAMESPACE", "Podium"),
            env.get("POWERTOOLS_SERVICE_NAME", "podium"),
        ),
        store=DynamoStateStore(
            _expiring(env, clients["dynamodb"], clock), env["PODIUM_TABLE_NAME"]
        ),
        work_queue=work_queue,
        event_queue=event_queue,
        runner=LambdaFunctionRunner(
            clients["lambda"],
            allowed,
            # A function ARN of another region is invoked through that region's client.
            client_for_region=lambda other: aws_clients(other, env.get("PODIUM_AWS_ENDPOINT_URL"))[
                "lambda"
            ],
        ),
        clock=clock,
        ids=UlidGenerator(clock),
        local_functions=False,  # a lambda step names a Lambda function here
        jobs=aws_jobs(
            env.get("AWS_REGION"),
            env.get("PODIUM_AWS_ENDPOINT_URL"),
            kinds=_external_step_types(env),
        ),
        http=_http(env),
    )


def _expiring(env: Any, dynamodb: Any, clock: Any) -> Any:
    """The table's client, stamping run items to expire ``PODIUM_RUN_RETENTION_DAYS``
    after their last write (unset: runs are kept)."""
    from podium.adapters.dynamo_expiry import ExpiringRunItems

    raw = env.get("PODIUM_RUN_RETENTION_DAYS", "").strip()
    if not raw:
        return dynamodb
    try:
        days = int(raw)
    except ValueError:
        days = 0
    if days < 1:
        raise RuntimeError(
            f"PODIUM_RUN_RETENTION_DAYS={raw!r} is not a whole number of days >= 1"
            " (leave it unset to keep runs)"
        )
    return ExpiringRunItems(dynamodb, after_days=days, clock=clock)


def _external_step_types(env: Any) -> frozenset[str] | None:
    """The external step types the construct granted (PODIUM_EXTERNAL_STEP_TYPES, comma-
    separated; empty: none), or None when unset (a stack from before it: all)."""
    raw = env.get("PODIUM_EXTERNAL_STEP_TYPES")
    if raw is None:
        return None
    return frozenset(k.strip() for k in str(raw).split(",") if k.strip())


def aws_jobs(
    region: str | None,
    endpoint_url: str | None = None,
    *,
    kinds: frozenset[str] | None = None,
) -> dict[str, Any]:
    """The external step types' AWS backends, each client made on first use (IAM, from
    the construct's props, decides which resources they reach). ``kinds``: only those
    (None: all). A type left out has no backend, so its steps fail with the
    ConfigError naming the props to set (service/runtimes/external.py), not with the
    AccessDenied of a grant the construct never made."""
    import boto3
    from botocore.config import Config

    from podium.adapters.jobs.ecs import EcsTasks
    from podium.adapters.jobs.lazy import LazyBackend

    def client(service: str) -> Any:
        config = Config(retries={"mode": "standard"})
        return boto3.client(service, region_name=region, endpoint_url=endpoint_url, config=config)

    from podium.adapters.jobs.batch import BatchJobs
    from podium.adapters.jobs.glue import GlueJobs
    from podium.adapters.jobs.sfn import SfnExecutions

    backends = {
        "ecs_task": LazyBackend(lambda: EcsTasks(client("ecs"))),
        "batch_job": LazyBackend(lambda: BatchJobs(client("batch"))),
        "glue_job": LazyBackend(lambda: GlueJobs(client("glue"))),
        "sfn_execution": LazyBackend(lambda: SfnExecutions(client("stepfunctions"))),
    }
    return {k: b for k, b in backends.items() if kinds is None or k in kinds}


def _http(env: Any) -> Any:
    import boto3

    from podium.adapters.http_transport import SecretsManagerSecrets, StdlibHttpTransport
    from podium.core.ports import HttpAccess

    hosts = frozenset(h.strip() for h in env.get("PODIUM_HTTP_HOSTS", "").split(",") if h.strip())
    secrets = boto3.client(
        "secretsmanager",
        region_name=env.get("AWS_REGION"),
        endpoint_url=env.get("PODIUM_AWS_ENDPOINT_URL"),
    )
    return HttpAccess(StdlibHttpTransport(), hosts, SecretsManagerSecrets(secrets))


def _logs(env: Any) -> Any:
    import boto3

    from podium.adapters.cloudwatch_logs import CloudWatchLogReader

    endpoint = env.get("PODIUM_AWS_ENDPOINT_URL")
    client = boto3.client("logs", region_name=env.get("AWS_REGION"), endpoint_url=endpoint)
    # A function ARN of another region logs there.
    return CloudWatchLogReader(
        client, lambda other: boto3.client("logs", region_name=other, endpoint_url=endpoint)
    )


def _payloads(env: Any) -> Any:
    from podium.adapters.payloads import MemoryPayloads, S3Payloads

    bucket = env.get("PODIUM_PAYLOAD_BUCKET", "").strip()
    if not bucket and env.get("AWS_LAMBDA_FUNCTION_NAME"):
        # On Lambda a memory store would keep a big value in one container: the next
        # step, elsewhere, finds nothing. (Off Lambda: tests and tools in one process.)
        raise RuntimeError("Podium is not configured: set PODIUM_PAYLOAD_BUCKET")
    if not bucket:
        return MemoryPayloads()
    import boto3

    client = boto3.client(
        "s3", region_name=env.get("AWS_REGION"), endpoint_url=env.get("PODIUM_AWS_ENDPOINT_URL")
    )
    return S3Payloads(client, bucket)


def _events(env: Any) -> Any:
    from podium.adapters.events import EventBridgeEvents, MemoryEvents

    bus = env.get("PODIUM_EVENT_BUS_NAME", "").strip()
    if not bus:
        return MemoryEvents()
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "events",
        region_name=env.get("AWS_REGION"),
        endpoint_url=env.get("PODIUM_AWS_ENDPOINT_URL"),
        config=Config(retries={"mode": "standard"}),
    )
    return EventBridgeEvents(client, bus)


def _schedules(env: Any) -> Any:
    """Cron and rate triggers' schedules: to the event queue, through the Scheduler."""
    from podium.adapters.schedules import MemorySchedules, SchedulerSchedules
    from podium.adapters.timers import SchedulerTarget

    names = ("PODIUM_SCHEDULE_GROUP", "PODIUM_SCHEDULER_ROLE_ARN", "PODIUM_EVENT_QUEUE_ARN")
    if not all(env.get(n) for n in names):
        return MemorySchedules()
    import boto3
    from botocore.config import Config

    scheduler = boto3.client(
        "scheduler",
        region_name=env.get("AWS_REGION"),
        endpoint_url=env.get("PODIUM_AWS_ENDPOINT_URL"),
        config=Config(retries={"mode": "standard"}),
    )
    target = SchedulerTarget(
        env["PODIUM_EVENT_QUEUE_ARN"],
        env["PODIUM_SCHEDULER_ROLE_ARN"],
        env.get("PODIUM_EVENT_DLQ_ARN") or None,
    )
    return SchedulerSchedules(scheduler, group=env["PODIUM_SCHEDULE_GROUP"], target=target)


def _timers(env: Any, work_queue: Any, event_queue: Any, clock: Any) -> Any:
    from podium.adapters.timers import QueueTimers, SchedulerTarget, SchedulerTimers

    names = (
        "PODIUM_SCHEDULE_GROUP",
        "PODIUM_SCHEDULER_ROLE_ARN",
        "PODIUM_WORK_QUEUE_ARN",
        "PODIUM_EVENT_QUEUE_ARN",
    )
    if not all(env.get(n) for n in names):
        return QueueTimers(work_queue, event_queue, clock)
    import boto3
    from botocore.config import Config

    scheduler = boto3.client(
        "scheduler",
        region_name=env.get("AWS_REGION"),
        endpoint_url=env.get("PODIUM_AWS_ENDPOINT_URL"),
        config=Config(retries={"mode": "standard"}),
    )
    role = env["PODIUM_SCHEDULER_ROLE_ARN"]
    return SchedulerTimers(
        work_queue,
        event_queue,
        clock,
        scheduler,
        group=env["PODIUM_SCHEDULE_GROUP"],
        targets={
            "work": SchedulerTarget(
                env["PODIUM_WORK_QUEUE_ARN"], role, env.get("PODIUM_WORK_DLQ_ARN") or None
            ),
            "events": SchedulerTarget(
                env["PODIUM_EVENT_QUEUE_ARN"], role, env.get("PODIUM_EVENT_DLQ_ARN") or None
            ),
        },
    )


def _structured_logs(env: Any) -> None:
    """JSON logs (Powertools' formatter) for every ``podium.*`` logger on Lambda."""
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

    logger = Logger(service=env.get("POWERTOOLS_SERVICE_NAME", "podium"))
    copy_config_to_registered_loggers(source_logger=logger, include={"podium"})


def local_secrets(sources: dict[str, str], env: Any = None) -> dict[str, str]:
    """The local values of http auth secrets: podium.toml's [secrets] name = "env:VAR"
    read from the environment. A variable that is not set leaves the secret out; the
    step that needs it fails naming the variable (MappedSecrets is given the mapping)."""
    env = os.environ if env is None else env
    values = {}
    for name, source in sources.items():
        variable = source.removeprefix("env:")
        if variable in env:
            values[name] = str(env[variable])
    return values
