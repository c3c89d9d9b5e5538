"""The HTTP API that the CLI and the console call, signed with SigV4 (IAM auth)."""

from __future__ import annotations

import jsii
from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw_v1
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from . import nag

# (method, path) of every route; all of them go to the api function.
ROUTES: tuple[tuple[apigw.HttpMethod, str], ...] = (
    (apigw.HttpMethod.POST, "/workflows"),
    (apigw.HttpMethod.GET, "/workflows"),
    (apigw.HttpMethod.GET, "/workflows/{name}/versions"),
    (apigw.HttpMethod.POST, "/workflows/{name}/activate"),
    (apigw.HttpMethod.POST, "/workflows/{name}/rollback"),
    (apigw.HttpMethod.GET, "/workflows/{name}/breakpoints"),
    (apigw.HttpMethod.POST, "/workflows/{name}/breakpoints"),
    (apigw.HttpMethod.GET, "/workflows/{name}"),
    (apigw.HttpMethod.POST, "/workflows/{name}/runs"),
    (apigw.HttpMethod.GET, "/workflows/{name}/runs"),
    (apigw.HttpMethod.POST, "/workflows/{name}/unblock"),
    (apigw.HttpMethod.GET, "/workflows/{name}/triggers"),
    (apigw.HttpMethod.POST, "/workflows/{name}/triggers/{trigger}/enable"),
    (apigw.HttpMethod.POST, "/workflows/{name}/triggers/{trigger}/disable"),
    (apigw.HttpMethod.POST, "/workflows/{name}/backfill"),
    (apigw.HttpMethod.POST, "/workflows/{name}/backfill/cancel"),
    (apigw.HttpMethod.POST, "/workflows/{name}/backfill/pause"),
    (apigw.HttpMethod.POST, "/workflows/{name}/backfill/resume"),
    (apigw.HttpMethod.POST, "/signals"),
    (apigw.HttpMethod.GET, "/runs/{run_id}"),
    (apigw.HttpMethod.GET, "/runs/{run_id}/logs"),
    (apigw.HttpMethod.GET, "/runs/{run_id}/iterations"),  # a loop step's child runs
    (apigw.HttpMethod.POST, "/callbacks/{token}"),  # a waiting step's result or heartbeat
    (apigw.HttpMethod.GET, "/runs/{run_id}/replay"),
    # Operators' actions (podium.service.actions): stop, kill, pause, resume, restart;
    # skip, retry, stop or resume a step.
    (apigw.HttpMethod.POST, "/runs/{run_id}/actions"),
    (apigw.HttpMethod.POST, "/runs/{run_id}/steps/actions"),
    # The web console's read-only views (podium console --stack signs and forwards them).
    (apigw.HttpMethod.GET, "/console/workflows"),
    (apigw.HttpMethod.GET, "/console/runs"),
    (apigw.HttpMethod.GET, "/console/runs/{run_id}"),
    (apigw.HttpMethod.GET, "/console/runs/{run_id}/step"),
)

# What ``grant_read`` and ``grant_operate`` open (IAM on execute-api:Invoke): reading is
# every GET; operating is reading plus the actions on runs and steps and unblocking a
# queue and activating a version (a rollback), without pushing definitions or starting
# runs.
OPERATE_ROUTES: tuple[tuple[apigw.HttpMethod, str], ...] = (
    (apigw.HttpMethod.POST, "/runs/{run_id}/actions"),
    (apigw.HttpMethod.POST, "/runs/{run_id}/steps/actions"),
    (apigw.HttpMethod.POST, "/workflows/{name}/unblock"),
    # Rolling a workflow back to yesterday's version is an operator's move too.
    (apigw.HttpMethod.POST, "/workflows/{name}/activate"),
    (apigw.HttpMethod.POST, "/workflows/{name}/rollback"),
    (apigw.HttpMethod.POST, "/workflows/{name}/breakpoints"),
)


def _arn_path(path: str) -> str:
    """A route's path as execute-api ARNs write it: each {param} is a wildcard."""
    return "/".join("*" if part.startswith("{") else part for part in path.split("/"))


# The web console's page and its assets (podium.service.console_files): static files from
# the package that carry no data, deployed WITHOUT an authorizer so that a browser can
# load the page; the page then signs its calls to the routes above. Keep in step with
# console_files.PUBLIC_PATHS (tests/infra/test_api_routes.py checks it).
PUBLIC_ROUTES: tuple[tuple[apigw.HttpMethod, str], ...] = (
    (apigw.HttpMethod.GET, "/console/app"),
    (apigw.HttpMethod.GET, "/console/app/app.js"),
    (apigw.HttpMethod.GET, "/console/app/app.css"),
    (apigw.HttpMethod.GET, "/console/app/vendor/dagre.min.js"),
    (apigw.HttpMethod.GET, "/console/app/vendor/aws4fetch.umd.js"),
)
PUBLIC_ROUTES_REASON = (
    "These routes serve the web console's static page and scripts from the package: no "
    "data, no writes, nothing about the account. A browser must load them before it can "
    "sign anything; every route that reads or changes data keeps IAM auth."
)

# The stage's rate limit protects the table from a runaway client; bursts of a few
# hundred requests still pass.
THROTTLE_RATE = 100
THROTTLE_BURST = 200


@jsii.implements(apigw.IAccessLogSettings)
class _AccessLogs:
    """JSON access logs (who called what, and how it went) into a log group."""

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigw.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigw.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw_v1.AccessLogFormat:
        return apigw_v1.AccessLogFormat.custom(
            '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
            '"caller":"$context.identity.userArn","time":"$context.requestTime",'
            '"method":"$context.httpMethod","route":"$context.routeKey",'
            '"status":"$context.status","latencyMs":"$context.responseLatency",'
            '"error":"$context.error.message","integrationError":'
            '"$context.integrationErrorMessage"}'
        )


class Api(Construct):
    """HTTP API (payload format 2.0) whose routes all require IAM auth, except the
    console's static files (``PUBLIC_ROUTES``).

    Attributes: ``http_api``, ``default_route`` (``$default``: what no route matches, for
    the function's 404 and 405), ``stage``, ``access_logs``, ``url`` (the endpoint).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        handler: lambda_.IFunction,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.http_api = apigw.HttpApi(
            self,
            "HttpApi",
            api_name=f"{name_prefix}-api",
            description="Podium workflows and runs (SigV4-signed requests only)",
            default_authorizer=authorizers.HttpIamAuthorizer(),
            # The stage below carries access logs and throttling, which the implicit
            # default stage cannot.
            create_default_stage=False,
        )
        integration = integrations.HttpLambdaIntegration(
            "Handler",
            handler,
            payload_format_version=apigw.PayloadFormatVersion.VERSION_2_0,
        )
        for method, path in ROUTES:
            self.http_api.add_routes(path=path, methods=[method], integration=integration)
        # Every other request (an unknown path, or a served path with another method)
        # goes to the function too, IAM-authorized, so that a wrong method gets its 405
        # with the Allow header and an unknown path a 404 naming the fix, as `podium dev`
        # answers; API Gateway's own answer is a bare 404 for both. The function's router
        # is as strict as API Gateway's (no trailing-slash or empty-segment leniency), so
        # a request that matches no route here matches no handler there either, and IAM
        # still authorizes it by its own method and path.
        self.default_route = apigw.HttpRoute(
            self,
            "DefaultRoute",
            http_api=self.http_api,
            route_key=apigw.HttpRouteKey.DEFAULT,
            integration=integration,
            authorizer=authorizers.HttpIamAuthorizer(),
        )
        for method, path in PUBLIC_ROUTES:
            for route in self.http_api.add_routes(
                path=path,
                methods=[method],
                integration=integration,
                authorizer=apigw.HttpNoneAuthorizer(),
            ):
                nag.acknowledge(route, "AwsSolutions-APIG4", PUBLIC_ROUTES_REASON)
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=log_retention, removal_policy=removal_policy
        )
        self.stage = apigw.HttpStage(
            self,
            "DefaultStage",
            http_api=self.http_api,
            stage_name="$default",
            auto_deploy=True,
            access_log_settings=_AccessLogs(self.access_logs),
            throttle=apigw.ThrottleSettings(rate_limit=THROTTLE_RATE, burst_limit=THROTTLE_BURST),
        )
        self.url: str = self.http_api.api_endpoint

    def _grant(
        self, grantee: iam.IGrantable, routes: tuple[tuple[apigw.HttpMethod, str], ...]
    ) -> iam.Grant:
        arns = [
            self.http_api.arn_for_execute_api(method.value, _arn_path(path), "$default")
            for method, path in routes
        ]
        grant = iam.Grant.add_to_principal(
            grantee=grantee, actions=["execute-api:Invoke"], resource_arns=arns
        )
        principal = grantee.grant_principal
        if isinstance(principal, Construct):  # a role, user or group of this app
            from .permissions import acknowledge_wildcards

            acknowledge_wildcards(
                principal,
                arns,
                "execute-api ARNs name each route of the API; a path parameter ({run_id},"
                " {name}) is the wildcard segment.",
            )
        return grant

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Read workflows, runs, logs and the console's views (every GET route)."""
        return self._grant(grantee, tuple(r for r in ROUTES if r[0] is apigw.HttpMethod.GET))

    def grant_operate(self, grantee: iam.IGrantable) -> iam.Grant:
        """Read, and act on runs and steps (stop, kill, pause, resume, restart, skip,
        retry) and unblock queues; no push, no start."""
        reads = tuple(r for r in ROUTES if r[0] is apigw.HttpMethod.GET)
        return self._grant(grantee, reads + OPERATE_ROUTES)
