"""The whole AWS side of the application in this process: moto, built from ``template.yaml``.

``LocalRuntime.start()`` starts moto (with Step Functions execution on), creates every table,
bucket, parameter, secret, function and state machine the template declares (one source of
truth), connects S3 ``ObjectCreated`` events to their functions as SAM does (moto then invokes the
function when an object lands), runs Lambda handlers in-process, and exports the functions'
environment variables. ``stop()`` undoes all of it. Variables the user already set (environment
or ``./.env``) are never overridden.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from types import TracebackType
from typing import Any

from orchestrator.local import resources as res
from orchestrator.local.dynamodb_seam import DynamoDBSeam
from orchestrator.local.lambda_seam import FunctionSpec, InProcessLambdas
from orchestrator.local.sfn_seam import DISABLE_HOST_PREFIX_ENV, StepFunctionsSeams
from orchestrator.local.template import Template

log = logging.getLogger(__name__)

#: moto logs a dump of the interpreter's component tree for every failed state, caught or not;
#: the execution's error and cause (describe_execution) say what matters.
_NOISY_LOGGERS = {
    "moto.stepfunctions.parser": logging.ERROR,
    "moto.stepfunctions.parser.asl.component.eval_component": logging.CRITICAL,
}


class LocalRuntime:
    """moto stand-ins for the stack in ``template_path``, with the real handlers behind them.

    ``repo_root`` is where the functions' ``CodeUri`` folders are; ``parameter_overrides`` work as
    in ``sam deploy``; ``retry_delay_scale`` multiplies ASL Retry waits (0 makes tests fast).
    moto is process-wide, so one runtime runs at a time.
    """

    _active: LocalRuntime | None = None

    def __init__(
        self,
        template_path: Path,
        *,
        repo_root: Path,
        region: str = "us-east-1",
        stack_name: str = "orchestrator-local",
        parameter_overrides: dict[str, str] | None = None,
        retry_delay_scale: float = 1.0,
    ) -> None:
        self.template_path = Path(template_path)
        self.repo_root = Path(repo_root)
        self.region = region
        self.stack_name = stack_name
        self.template = Template.from_file(
            self.template_path, region=region, stack_name=stack_name, parameter_overrides=parameter_overrides
        )
        self.ids = res.PhysicalIds(self.template, stack_name, region)
        self._lambdas = InProcessLambdas()
        self._sfn = StepFunctionsSeams(retry_delay_scale=retry_delay_scale, lambdas=self._lambdas)
        self._dynamodb = DynamoDBSeam()
        self._mock: Any = None
        self._env_set: list[str] = []
        self._state_machines: dict[str, str] = {}
        self._saved_log_levels: dict[str, int] = {}

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start moto and create the stack; idempotent while running."""
        if self._mock is not None:
            return
        if LocalRuntime._active is not None:
            raise RuntimeError("Another LocalRuntime is running in this process; stop it first.")
        from moto import mock_aws

        # boto3 reads only the process environment, so only that counts for these three.
        for key, value in (
            ("AWS_DEFAULT_REGION", self.region),
            ("AWS_REGION", self.region),
            (DISABLE_HOST_PREFIX_ENV, "true"),
        ):
            self._set_env_if_unset(key, value, set(os.environ))
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        LocalRuntime._active = self
        try:
            self._lambdas.install()
            self._sfn.install()
            self._dynamodb.install()
            self._quiet_moto()
            user = _user_variables()
            self._create_stack(user)
            for key, value in self.function_env().items():
                self._set_env_if_unset(key, value, user)
            _clear_process_caches()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Remove the patches, stop moto and restore the environment."""
        self._dynamodb.uninstall()
        self._sfn.uninstall()
        self._lambdas.uninstall()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        if LocalRuntime._active is self:
            LocalRuntime._active = None
        for key in reversed(self._env_set):
            os.environ.pop(key, None)
        self._env_set.clear()
        self._state_machines.clear()
        for name, level in self._saved_log_levels.items():
            logging.getLogger(name).setLevel(level)
        self._saved_log_levels.clear()
        _clear_process_caches()

    def __enter__(self) -> LocalRuntime:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._mock is not None

    # ------------------------------------------------------------------ what the stack looks like
    @property
    def chat_state_machine_arn(self) -> str:
        return self.state_machine_arn("ChatStateMachine")

    @property
    def runs_state_machine_arn(self) -> str:
        return self.state_machine_arn("RunsStateMachine")

    def state_machine_arn(self, logical_id: str) -> str:
        if logical_id not in self._state_machines:
            raise KeyError(f"No state machine {logical_id} in the running local stack")
        return self._state_machines[logical_id]

    def physical_id(self, logical_id: str) -> str:
        """What ``!Ref logical_id`` resolves to in the local stack."""
        return self.ids.ref(logical_id)

    def function_env(self) -> dict[str, str]:
        """Globals + every function's variables, resolved (one process runs all functions)."""
        merged: dict[str, str] = {}
        for logical_id in self.template.resources(res.FUNCTION):
            props = self.template.resolve(
                self.template.function_properties(logical_id), self.ids.ref, self.ids.get_att
            )
            for key, value in res.environment_of(props).items():
                if key in merged and merged[key] != value:
                    log.warning("%s differs between functions; %s uses %r", key, logical_id, value)
                merged[key] = value
        return merged

    # ------------------------------------------------------------------ creation
    def _create_stack(self, user: dict[str, str]) -> None:
        import boto3

        self._name_tables_as_the_user_did(user)
        role_arn = boto3.client("iam").create_role(
            RoleName=f"{self.stack_name}-role"[:64],
            AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}',
        )["Role"]["Arn"]
        resolve = self._resolver()
        secrets_client = boto3.client("secretsmanager", region_name=self.region)
        for logical_id, resource in self.template.resources(res.SECRET).items():
            arn = res.create_secret(secrets_client, self.ids.name(logical_id), resolve(resource))
            self.ids.set_ref(logical_id, arn)
        dynamodb = boto3.client("dynamodb", region_name=self.region)
        for logical_id, resource in self.template.resources(res.TABLE).items():
            res.create_table(dynamodb, self.ids.name(logical_id), resolve(resource))
        s3 = boto3.client("s3", region_name=self.region)
        for logical_id, resource in self.template.resources(res.BUCKET).items():
            res.create_bucket(s3, self.ids.name(logical_id), resolve(resource), self.region)
        ssm = boto3.client("ssm", region_name=self.region)
        for logical_id, resource in self.template.resources(res.PARAMETER).items():
            res.create_parameter(ssm, self.ids.name(logical_id), resolve(resource))
        lambda_client = boto3.client("lambda", region_name=self.region)
        code = res.dummy_code_zip()
        notifications: dict[str, list[dict[str, Any]]] = {}
        for logical_id in self.template.resources(res.FUNCTION):
            props = self.template.resolve(
                self.template.function_properties(logical_id), self.ids.ref, self.ids.get_att
            )
            name = self.ids.name(logical_id)
            res.create_function(lambda_client, name, props, role_arn, code)
            self._lambdas.register(
                FunctionSpec(
                    logical_id=logical_id,
                    function_name=name,
                    function_arn=self.ids.get_att(logical_id, "Arn"),
                    code_dir=self.repo_root / str(props["CodeUri"]),
                    handler=str(props.get("Handler", "app.handler")),
                    timeout_s=int(props.get("Timeout", 3)),
                    memory_mb=int(props.get("MemorySize", 128)),
                )
            )
            for bucket, config in res.s3_notifications(props, self.ids.get_att(logical_id, "Arn")):
                notifications.setdefault(bucket, []).append(config)
        for bucket, configs in notifications.items():
            s3.put_bucket_notification_configuration(
                Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": configs}
            )
        sfn = boto3.client("stepfunctions", region_name=self.region)
        for logical_id, resource in self.template.resources(res.STATE_MACHINE).items():
            props = resolve(resource)
            definition = res.state_machine_definition(
                props, self.template_path.parent, props.get("DefinitionSubstitutions", {})
            )
            self._state_machines[logical_id] = res.create_state_machine(
                sfn, self.ids.name(logical_id), definition, role_arn, props.get("Type", "STANDARD")
            )

    def _resolver(self) -> Any:
        def resolve(resource: dict[str, Any]) -> dict[str, Any]:
            props = self.template.resolve(resource.get("Properties", {}), self.ids.ref, self.ids.get_att)
            return props if isinstance(props, dict) else {}

        return resolve

    def _name_tables_as_the_user_did(self, user: dict[str, str]) -> None:
        """A table whose env variable the user set (``CONVERSATIONS_TABLE=…``) gets that name."""
        tables = self.template.resources(res.TABLE)
        for logical_id in self.template.resources(res.FUNCTION):
            props = self.template.function_properties(logical_id)
            for key, raw in (props.get("Environment", {}).get("Variables", {}) or {}).items():
                if isinstance(raw, dict) and raw.get("Ref") in tables and key.upper() in user:
                    self.ids.names[raw["Ref"]] = user[key.upper()]

    # ------------------------------------------------------------------ environment
    def _set_env_if_unset(self, key: str, value: str, user: set[str] | dict[str, str]) -> None:
        if key in os.environ or key.upper() in user:
            return
        os.environ[key] = value
        self._env_set.append(key)

    def _quiet_moto(self) -> None:
        for name, level in _NOISY_LOGGERS.items():
            logger = logging.getLogger(name)
            if logger.getEffectiveLevel() < level:
                self._saved_log_levels[name] = logger.level
                logger.setLevel(level)


def _user_variables() -> dict[str, str]:
    """Variables the user set: the process environment and ``./.env`` (what Settings reads)."""
    values = {key.upper(): value for key, value in os.environ.items()}
    dotenv_path = Path.cwd() / ".env"
    if dotenv_path.is_file():
        from dotenv import dotenv_values

        for key, value in dotenv_values(dotenv_path).items():
            values.setdefault(key.upper(), value or "")
    return values


def _clear_process_caches() -> None:
    """Settings and Powertools caches were filled from the previous environment and AWS state."""
    from orchestrator.config import get_settings

    get_settings.cache_clear()
    try:
        from aws_lambda_powertools.utilities.parameters import base
    except ImportError:  # pragma: no cover - Powertools is a layer dependency
        return
    base.clear_caches()  # type: ignore[no-untyped-call]
