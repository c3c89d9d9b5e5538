"""Helpers for the CDK tests: synthesize an app once and look things up in it.

Lambda bundling is skipped (context ``podium:skipBundling``) so synthesis needs no
network; ``test_lambda_bundle.py`` covers the real bundle.
"""
    context = dict(json.loads((REPO_ROOT / "cdk.json").read_text())["context"])
    context["podium:skipBundling"] = "true"
    context.update(extra)
    return context


@dataclass
class Synth:
    """One synthesized app: its stack, template, and the cdk-nag outcome."""

    app: App
    stack: Stack
    template: Template
    outdir: Path
    # The validation report's violations; empty when cdk-nag passed.
    nag_violations: list[dict[str, Any]]

    def resources(self, type_name: str) -> dict[str, dict[str, Any]]:
        return self.template.find_resources(type_name)

    def raw(self) -> dict[str, Any]:
        return self.template.to_json()


def synthesize(outdir: Path, build: Callable[[App], Stack], *, nag: bool = True) -> Synth:
    """Synthesize with the AwsSolutions checks. When they fail, keep the report and
    synthesize again without them, so the template tests still run and only the nag
    tests fail (with the findings in their message)."""
    from podium_cdk import apply_aws_solutions_checks

    app = App(context=cdk_context(), outdir=str(outdir))
    stack = build(app)
    violations: list[dict[str, Any]] = []
    if nag:
        apply_aws_solutions_checks(app)
    try:
        app.synth()
    except RuntimeError as exc:
        if "ValidationFailed" not in str(exc):
            raise
        report = json.loads((outdir / "validation-report.json").read_text())
        violations = [v for r in report["pluginReports"] for v in r["violations"]]
        return _retry_without_nag(outdir, build, violations)
    template = Template.from_json(
        json.loads((outdir / f"{stack.artifact_id}.template.json").read_text())
    )
    return Synth(app, stack, template, outdir, violations)


def _retry_without_nag(
    outdir: Path, build: Callable[[App], Stack], violations: list[dict[str, Any]]
) -> Synth:
    retry = synthesize(outdir.with_name(outdir.name + "-no-nag"), build, nag=False)
    retry.nag_violations = violations
    return retry


def build_default(app: App) -> Stack:
    from podium_cdk import PodiumStack

    return PodiumStack(app, "Podium")


def functions_by_handler(synth: Synth) -> dict[str, dict[str, Any]]:
    """Lambda function resources keyed by handler short name (api, work, ...)."""
    found = {}
    for logical_id, resource in synth.resources("AWS::Lambda::Function").items():
        handler = resource["Properties"]["Handler"]
        if handler.startswith("podium.handlers."):
            found[handler.split(".")[2]] = {"id": logical_id, **resource}
    return found


def logical_id_of(synth: Synth, type_name: str, path_fragment: str) -> str:
    """The logical id of the one resource of ``type_name`` whose id contains the
    fragment (CDK ids are path-derived, e.g. 'WorkQueue' in 'PodiumQueuesWorkQueue...')."""
    matches = [lid for lid in synth.resources(type_name) if path_fragment in lid]
    assert len(matches) == 1, f"{type_name} matching {path_fragment!r}: {matches}"
    return matches[0]
