"""Talk to a deployed Podium stack: find its API, sign requests with SigV4, call it.

The target is chosen in this order (the first that names one wins):

1. ``--endpoint URL`` or ``--stack NAME`` on the command line;
2. a section of the config file (``--profile NAME``, else ``$PODIUM_PROFILE``, else
   ``[default]`` when the file has one), holding ``stack`` or ``endpoint``;
3. the stack ``Podium``, which is the name ``infra/app.py`` deploys by default.

A stack is turned into an endpoint by reading its ``ApiUrl`` output. Requests are signed
for ``execute-api`` with the caller's AWS credentials (the standard boto3 chain), because
every route of the HTTP API uses IAM auth.
"""

from __future__ import annotations

import json
import re
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podium import bootstrap

if TYPE_CHECKING:
    import boto3
    from botocore.credentials import Credentials

CONFIG_ENV = "PODIUM_CONFIG"
PROFILE_ENV = "PODIUM_PROFILE"
DEFAULT_CONFIG = "~/.config/podium/config.toml"
DEFAULT_STACK = "Podium"
SERVICE = "execute-api"
API_URL_OUTPUT = "ApiUrl"
CONFIG_KEYS = ("stack", "endpoint", "region", "aws_profile")
# API Gateway gives up on an integration after 30 s; waiting longer only hides a hang.
TIMEOUT_S = 35.0
# Execute-api hosts carry their region, which must match the signature's scope.
_EXECUTE_API_HOST = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")


class RemoteError(Exception):
    """A problem that stops a remote command; ``exit_code`` is what the CLI returns."""

    exit_code = 2  # configuration and usage problems, found before the API answered


class ConfigError(RemoteError):
    """The target, the config file, the credentials or the stack are not usable."""


@dataclass(frozen=True)
class ApiIssue:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ApiError(RemoteError):
    """The API (or API Gateway in front of it) refused the request, or could not be reached."""

    exit_code = 1

    def __init__(
        self,
        status: int | None,
        message: str,
        issues: tuple[ApiIssue, ...] = (),
        hint: str = "",
    ) -> None:
        self.status = status
        self.message = message
        self.issues = issues
        self.hint = hint
        super().__init__(f"HTTP {status}: {message}" if status else message)


@dataclass(frozen=True)
class Target:
    """Where the CLI sends requests, and how it says where that came from in errors."""

    stack: str | None = None
    endpoint: str | None = None
    region: str | None = None
    aws_profile: str | None = None
    origin: str = "default"


# -- the config file ---------------------------------------------------------------------


def config_path(env: Mapping[str, str] | None = None) -> Path:
    env = bootstrap.remote_settings() if env is None else env
    return Path(env.get(CONFIG_ENV) or DEFAULT_CONFIG).expanduser()


def load_profiles(path: Path) -> dict[str, dict[str, str]]:
    """The file's sections; a missing file has none. Unknown keys are an error (typos)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    profiles: dict[str, dict[str, str]] = {}
    for name, section in data.items():
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: '{name}' must be a [section] with {', '.join(CONFIG_KEYS)}")
        unknown = sorted(set(section) - set(CONFIG_KEYS))
        if unknown:
            raise ConfigError(
                f"{path}: [{name}] unknown key(s) {', '.join(unknown)}; "
                f"known: {', '.join(CONFIG_KEYS)}"
            )
        bad = [k for k, v in section.items() if not isinstance(v, str) or not v]
        if bad:
            raise ConfigError(f"{path}: [{name}] {', '.join(bad)} must be non-empty strings")
        if "stack" in section and "endpoint" in section:
            raise ConfigError(f"{path}: [{name}] set either stack or endpoint, not both")
        profiles[name] = dict(section)
    return profiles


def resolve_target(
    *,
    stack: str | None = None,
    endpoint: str | None = None,
    profile: str | None = None,
    region: str | None = None,
    aws_profile: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Target:
    """Merge the flags, the config file's profile and the defaults into one target."""
    env = bootstrap.remote_settings() if env is None else env
    if stack and endpoint:
        raise ConfigError("pass either --stack or --endpoint, not both")
    path = config_path(env)
    name = profile or env.get(PROFILE_ENV)
    section: dict[str, str] = {}
    origin = "default"
    if name:
        profiles = load_profiles(path)
        if name not in profiles:
            known = ", ".join(sorted(profiles)) or "none"
            raise ConfigError(f"profile '{name}' not found in {path} (profiles: {known})")
        section, origin = profiles[name], f"profile '{name}' in {path}"
    elif not (stack or endpoint):
        # Only consult [default] when the flags leave the target open.
        section = load_profiles(path).get("default", {})
        origin = f"profile 'default' in {path}" if section else "default"
    if stack or endpoint:
        origin = "--stack" if stack else "--endpoint"
        chosen = Target(stack=stack, endpoint=endpoint)
    elif "endpoint" in section:
        chosen = Target(endpoint=section["endpoint"])
    else:
        chosen = Target(stack=section.get("stack", DEFAULT_STACK))
    if chosen.endpoint:
        try:
            parts = urllib.parse.urlsplit(chosen.endpoint)
        except ValueError as exc:  # e.g. "http://[::1": Invalid IPv6 URL
            raise ConfigError(f"endpoint '{chosen.endpoint}' is not a URL: {exc}") from None
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"endpoint '{chosen.endpoint}' is not an http(s) URL")
    return Target(
        stack=chosen.stack,
        endpoint=chosen.endpoint.rstrip("/") if chosen.endpoint else None,
        region=region or section.get("region"),
        aws_profile=aws_profile or section.get("aws_profile"),
        origin=origin,
    )


# -- AWS: session, region, credentials, stack outputs -----------------------------------


def aws_session(target: Target) -> boto3.Session:
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        return boto3.Session(profile_name=target.aws_profile)
    except ProfileNotFound as exc:  # from aws_profile, or from AWS_PROFILE
        raise ConfigError(f"{exc}: check aws_profile or AWS_PROFILE") from None


def region_of(target: Target, session: boto3.Session, env: Mapping[str, str] | None = None) -> str:
    env = bootstrap.remote_settings() if env is None else env
    # boto3 reads AWS_DEFAULT_REGION and ~/.aws/config but not AWS_REGION, which is what
    # Lambda, CDK and most CI systems set; honour it before the session's default.
    region = target.region or env.get("AWS_REGION") or session.region_name
    if not region:
        raise ConfigError(
            "no AWS region: pass --region, set AWS_REGION, or set region in a profile"
        )
    return region


# Said when no target was given and there is nothing to reach the default stack with:
# a newcomer without an AWS account most likely meant the local home or ``podium dev``
# (at its default port, local/dev_server.py's DEFAULT_PORT: not imported, as it is heavy).
LOCAL_WAYS = (
    f"no target was given, so the stack '{DEFAULT_STACK}' was tried; to talk to podium dev"
    " pass --endpoint http://127.0.0.1:8321, and to run a workflow here without AWS use"
    " podium run FILE"
)


def credentials_of(session: boto3.Session, *, defaulted: bool = False) -> Credentials:
    """The session's credentials. ``defaulted``: no target was given (the default stack
    was chosen), so the refusal also says the local ways."""
    creds = session.get_credentials()
    if creds is None:
        local = f"; {LOCAL_WAYS}" if defaulted else ""
        raise ConfigError(
            "no AWS credentials found: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY), run 'aws sso login', or set aws_profile in a profile"
            f"{local}"
        )
    return creds


def stack_outputs(
    session: boto3.Session, stack: str, region: str, *, defaulted: bool = False
) -> dict[str, str]:
    from botocore.exceptions import BotoCoreError, ClientError

    client = session.client("cloudformation", region_name=region)
    try:
        stacks = client.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") == "ValidationError" and "does not exist" in error.get("Message", ""):
            why = (
                "no target was given, so the default stack name was tried; pass --stack "
                "NAME or --endpoint URL, or add a [default] profile to the config file"
                if defaulted
                else "check the name and the region (--stack, --region, or a profile)"
            )
            raise ConfigError(f"stack '{stack}' not found in {region}: {why}") from None
        raise ConfigError(
            f"cannot read stack '{stack}' in {region}: {error.get('Code')}: "
            f"{error.get('Message')} (the CLI needs cloudformation:DescribeStacks)"
        ) from None
    except BotoCoreError as exc:
        raise ConfigError(f"cannot read stack '{stack}' in {region}: {exc}") from None
    if not stacks:
        raise ConfigError(f"stack '{stack}' not found in {region}")
    outputs = stacks[0].get("Outputs") or []
    return {o["OutputKey"]: o["OutputValue"] for o in outputs if "OutputKey" in o}


def endpoint_from_outputs(stack: str, region: str, outputs: Mapping[str, str]) -> str:
    url = outputs.get(API_URL_OUTPUT)
    if not url:
        found = ", ".join(sorted(outputs)) or "none"
        raise ConfigError(
            f"stack '{stack}' in {region} has no {API_URL_OUTPUT} output (outputs: {found}); "
            "is it a Podium stack? A stack of your own must call Podium.add_outputs()"
        )
    return url.rstrip("/")


def signing_region(endpoint: str, fallback: str | None) -> str | None:
    host = urllib.parse.urlsplit(endpoint).hostname or ""
    match = _EXECUTE_API_HOST.search(host)
    return match.group(1) if match else fallback


# -- the signed client -------------------------------------------------------------------

Opener = Callable[..., Any]


@dataclass
class ApiClient:
    """JSON over HTTPS to the Podium API, each request signed with SigV4."""

    endpoint: str
    credentials: Credentials | None  # None: a local endpoint (podium dev): not signed
    region: str
    timeout: float = TIMEOUT_S
    opener: Opener = field(default=urllib.request.urlopen)

    def get(self, path: str, query: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, query=query)

    def get_run(self, run_id: str) -> Any:
        """``GET /runs/{id}`` with every page of its steps (a big run's come in pages)."""
        body = self.get(f"/runs/{quote(run_id)}")
        seen = {s["step"] for s in body["steps"]}
        while body.get("next"):
            more = self.get(f"/runs/{quote(run_id)}", {"next": body["next"]})
            # A step is listed once even if the run moved on between two pages (an API
            # that pages by position repeated one).
            fresh = [s for s in more["steps"] if s["step"] not in seen]
            seen.update(s["step"] for s in fresh)
            body = {**more, "steps": [*body["steps"], *fresh]}
        body.pop("next", None)
        return body

    def post_json(self, path: str, body: Any) -> Any:
        return self.request(
            "POST", path, body=json.dumps(body).encode(), content_type="application/json"
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: bytes | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        raw: bool = False,
    ) -> Any:
        """The decoded JSON answer (ApiError for a refusal). ``headers``: more to send,
        signed with the rest (a body's Content-Encoding). ``raw``: any answer the API
        gave, a refusal's too, as (status, headers, body bytes), undecoded: podium
        console passes it on as it came."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        url = self.endpoint + path
        pairs = {k: v for k, v in (query or {}).items() if v is not None}
        if pairs:
            url += "?" + urllib.parse.urlencode(pairs)
        sent = {"Accept": "application/json", **(headers or {})}
        if content_type:
            sent["Content-Type"] = content_type
        signed = AWSRequest(method=method, url=url, data=body, headers=sent)
        if self.credentials is not None:
            # Frozen: a refreshing credential (SSO, assumed role) must not change mid-signature.
            frozen = self.credentials.get_frozen_credentials()
            SigV4Auth(frozen, SERVICE, self.region).add_auth(signed)
        request = urllib.request.Request(
            url, data=body, headers=dict(signed.headers.items()), method=method
        )
        try:
            with self.opener(request, timeout=self.timeout) as response:
                if raw:
                    return response.status, dict(response.headers.items()), response.read()
                return _decode(response.read())
        except urllib.error.HTTPError as exc:
            if raw:
                return exc.code, dict(exc.headers.items()), exc.read()
            raise _api_error(exc.code, exc.read()) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ApiError(None, f"cannot reach {self.endpoint}: {reason}") from None


# What an answer nested past Python's JSON parser (about 1,000 levels: a step's output,
# say) is told instead of a RecursionError's traceback. The API stores such values; it
# is the CLI that cannot read them, so the fix is another reader.
_TOO_DEEP = (
    "the API answered with JSON nested too deep for this CLI to read (past Python's"
    " limit of about 1,000 levels; a step's output or params, say): see the run in the"
    " console (podium console), or read the answer with another JSON reader"
)


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except RecursionError:
        raise ApiError(None, _TOO_DEEP) from None
    except ValueError:
        raise ApiError(None, f"the API answered with non-JSON: {raw[:200]!r}") from None


def _api_error(status: int, raw: bytes) -> ApiError:
    try:
        body = json.loads(raw) if raw else {}
    except RecursionError:  # an error nested that deep says nothing readable
        body = {"message": _TOO_DEEP}
    except ValueError:
        body = {"message": raw[:200].decode("utf-8", "replace")}
    if not isinstance(body, dict):
        body = {"message": str(body)}
    message = str(body.get("message") or body.get("Message") or f"HTTP {status}")
    issues = tuple(
        ApiIssue(str(e.get("path", "")), str(e.get("message", "")))
        for e in body.get("errors") or []
        if isinstance(e, dict)
    )
    hint = ""
    if status == 403:
        # API Gateway's IAM authorizer answers 403 before Podium sees the request.
        hint = (
            "API Gateway refused the signed request: the credentials must be valid and "
            "allowed execute-api:Invoke on this API"
        )
    return ApiError(status, message, issues, hint)


def connect(target: Target, *, env: Mapping[str, str] | None = None) -> ApiClient:
    """Find the endpoint (reading the stack's outputs when needed) and sign for it.
    A localhost endpoint (``podium dev``) needs no AWS credentials: without any, its
    requests go unsigned."""
    session = aws_session(target)
    if target.endpoint and is_local(target.endpoint) and session.get_credentials() is None:
        return ApiClient(endpoint=target.endpoint, credentials=None, region="local")
    # Credentials first: without them, DescribeStacks fails with a vaguer message.
    defaulted = target.origin == "default"
    credentials = credentials_of(session, defaulted=defaulted and not target.endpoint)
    if target.endpoint:
        endpoint = target.endpoint
        region = signing_region(endpoint, None) or region_of(target, session, env)
    else:
        assert target.stack is not None
        region = region_of(target, session, env)
        outputs = stack_outputs(session, target.stack, region, defaulted=defaulted)
        endpoint = endpoint_from_outputs(target.stack, region, outputs)
        region = signing_region(endpoint, region) or region
    return ApiClient(endpoint=endpoint, credentials=credentials, region=region)


def is_local(endpoint: str) -> bool:
    host = urllib.parse.urlsplit(endpoint).hostname or ""
    return host in ("localhost", "127.0.0.1", "::1")


def quote(segment: str) -> str:
    """One path segment: a name can never reach another route."""
    return urllib.parse.quote(segment, safe="")
