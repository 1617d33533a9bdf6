"""Large documents on AWS: the API signs an S3 upload, the bucket's ``ObjectCreated`` event ingests it.

The object key is the only thing that travels from the API to the ingestion function, so it
carries the identity: ``uploads/<tenant>/<owner>/<doc_id>/<filename>``. The API builds it from
the authenticated principal and signs a POST policy that pins it exactly (boto3 adds an
``{"key": …}`` condition), with a ``content-length-range`` and the content type; nobody else can
write under ``uploads/`` (the bucket is private, and only the API's role may put objects). The
ingestion function reads the object, parses it (:mod:`orchestrator.grounding.parsing`), stores
it as that owner's document, and deletes it; the bucket's lifecycle rule removes anything left
behind after a day.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, unquote_plus

from pydantic import BaseModel, Field

from orchestrator.errors import ConfigurationError, OrchestratorError, ValidationError
from orchestrator.grounding.parsing import extract_text

if TYPE_CHECKING:
    from orchestrator.config import Settings
    from orchestrator.grounding.store import DocumentStore, IngestResult

logger = logging.getLogger(__name__)

UPLOAD_PREFIX = "uploads"
#: Tenants, owners and document ids in a key: the API's id alphabet, so no '/' can shift a part.
_SEGMENT = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")
MAX_FILENAME_CHARS = 128
#: S3 user metadata travels as HTTP headers: the title goes percent-encoded.
TITLE_METADATA = "title"


def safe_filename(name: str | None) -> str:
    """The last path part of ``name`` in letters, digits and ``._-`` (the extension kept)."""
    base = PurePosixPath((name or "").replace("\\", "/")).name
    cleaned = _UNSAFE_FILENAME.sub("_", base).lstrip("._")
    if len(cleaned) > MAX_FILENAME_CHARS:
        suffix = PurePosixPath(cleaned).suffix[:16]
        cleaned = cleaned[: MAX_FILENAME_CHARS - len(suffix)] + suffix
    return cleaned or "document"


@dataclass(frozen=True)
class UploadTarget:
    """Whose document an uploaded object becomes; its S3 key says the same thing."""

    tenant_id: str
    owner: str
    doc_id: str
    filename: str

    def __post_init__(self) -> None:
        for name in ("tenant_id", "owner", "doc_id"):
            value = getattr(self, name)
            if not _SEGMENT.match(value) or value in {".", ".."}:
                raise ValidationError(f"{name}: {value!r} cannot name an upload (letters, digits, _.:@-)")
        if self.filename != safe_filename(self.filename):
            raise ValidationError(f"filename: {self.filename!r} is not a safe file name")

    @property
    def key(self) -> str:
        return f"{UPLOAD_PREFIX}/{self.tenant_id}/{self.owner}/{self.doc_id}/{self.filename}"

    @classmethod
    def from_key(cls, key: str) -> UploadTarget:
        """The target a key names, or :class:`ValidationError` for anything else in the bucket."""
        parts = key.split("/")
        if len(parts) != 5 or parts[0] != UPLOAD_PREFIX:
            raise ValidationError(f"{key!r} is not {UPLOAD_PREFIX}/<tenant>/<owner>/<doc_id>/<filename>")
        return cls(tenant_id=parts[1], owner=parts[2], doc_id=parts[3], filename=parts[4])


class PresignedUpload(BaseModel):
    """Send the file as ``multipart/form-data`` to ``url``: every field of ``fields``, then ``file``."""

    url: str
    fields: dict[str, str]
    key: str
    doc_id: str
    method: str = "POST"
    expires_in: int = Field(description="Seconds the form stays valid.")
    max_bytes: int = Field(description="Largest file S3 accepts with this form.")


@dataclass(frozen=True)
class UploadedObject:
    bucket: str
    key: str


def uploaded_objects(event: dict[str, Any]) -> list[UploadedObject]:
    """The created objects an S3 notification (``Records``) or EventBridge ``Object Created`` names."""
    if event.get("detail-type") == "Object Created":
        detail = event.get("detail") or {}
        return [UploadedObject(str(detail["bucket"]["name"]), str(detail["object"]["key"]))]
    objects = []
    for record in event.get("Records") or []:
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = record["s3"]
        # Notification keys are URL-encoded, spaces as '+'.
        objects.append(UploadedObject(str(s3["bucket"]["name"]), unquote_plus(str(s3["object"]["key"]))))
    return objects


class DocumentUploads:
    """Signs uploads into ``bucket`` and turns uploaded objects into documents."""

    def __init__(
        self,
        bucket: str | None,
        *,
        region: str = "us-east-1",
        s3: Any | None = None,
        max_bytes: int = 20 * 1024 * 1024,
        url_ttl_s: int = 900,
        max_chars: int | None = None,
        max_pages: int = 500,
    ) -> None:
        self.bucket = bucket
        self.region = region
        self._s3 = s3
        self.max_bytes = max_bytes
        self.url_ttl_s = url_ttl_s
        self.max_chars = max_chars
        self.max_pages = max_pages

    @classmethod
    def from_settings(cls, settings: Settings, *, s3: Any | None = None) -> DocumentUploads:
        return cls(
            settings.document_uploads_bucket,
            region=settings.aws_region,
            s3=s3,
            max_bytes=settings.documents_upload_max_bytes,
            url_ttl_s=settings.documents_upload_url_ttl_s,
            max_chars=settings.documents_max_chars,
            max_pages=settings.documents_max_pages,
        )

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            from botocore.config import Config

            from orchestrator.aws.boto import boto_config, build_boto3_client

            # SigV4 forms: SigV2 is refused by every region opened since 2014.
            config = boto_config(connect_timeout_s=2.0, read_timeout_s=20.0).merge(
                Config(signature_version="s3v4")
            )
            self._s3 = build_boto3_client("s3", region=self.region, config=config)
        return self._s3

    def presign(self, target: UploadTarget, *, content_type: str, title: str | None) -> PresignedUpload:
        """A POST form that can create exactly ``target.key``, at most ``max_bytes`` long."""
        if not self.bucket:
            raise ConfigurationError("Direct uploads need DOCUMENT_UPLOADS_BUCKET (set by the template)")
        fields = {"Content-Type": content_type}
        conditions: list[Any] = [["content-length-range", 1, self.max_bytes], {"Content-Type": content_type}]
        if title:
            fields[f"x-amz-meta-{TITLE_METADATA}"] = quote(title, safe=" ")
            conditions.append({f"x-amz-meta-{TITLE_METADATA}": fields[f"x-amz-meta-{TITLE_METADATA}"]})
        post = self.s3.generate_presigned_post(
            Bucket=self.bucket,
            Key=target.key,
            Fields=fields,
            Conditions=conditions,
            ExpiresIn=self.url_ttl_s,
        )
        return PresignedUpload(
            url=post["url"],
            fields={str(k): str(v) for k, v in post["fields"].items()},
            key=target.key,
            doc_id=target.doc_id,
            expires_in=self.url_ttl_s,
            max_bytes=self.max_bytes,
        )

    def ingest_object(self, obj: UploadedObject, store: DocumentStore) -> IngestResult | None:
        """Store the object as its owner's document and delete it; ``None`` when it was not stored.

        A refused object (wrong place, too large, unreadable) is deleted and logged: retrying
        cannot help it. Transient failures (throttling, a model that is down) raise, so Lambda's
        asynchronous retries try again while the object is still there.
        """
        try:
            target = UploadTarget.from_key(obj.key)
        except ValidationError:
            logger.warning("ignored an object outside the uploads layout", extra={"key": obj.key})
            return None
        try:
            response = self.s3.get_object(Bucket=obj.bucket, Key=obj.key)
        except self.s3.exceptions.NoSuchKey:
            logger.info("upload already ingested", extra={"key": obj.key})  # a redelivered event
            return None
        try:
            result = self._ingest(obj, target, response, store)
        except OrchestratorError as exc:
            if exc.transient or exc.status_code >= 500:
                raise
            logger.warning(
                "upload refused",
                extra={"key": obj.key, "code": exc.code, "reason": exc.message},
            )
            result = None
        self.s3.delete_object(Bucket=obj.bucket, Key=obj.key)
        return result

    def _ingest(
        self, obj: UploadedObject, target: UploadTarget, response: dict[str, Any], store: DocumentStore
    ) -> IngestResult:
        if int(response.get("ContentLength", 0)) > self.max_bytes:
            raise ValidationError(f"The upload is over {self.max_bytes} bytes")
        data = response["Body"].read(self.max_bytes + 1)
        parsed = extract_text(
            data,
            content_type=response.get("ContentType"),
            filename=target.filename,
            max_chars=self.max_chars,
            max_pages=self.max_pages,
        )
        given = unquote((response.get("Metadata") or {}).get(TITLE_METADATA, "")).strip()
        title = given or parsed.title or PurePosixPath(target.filename).stem or target.doc_id
        return store.ingest(
            target.tenant_id,
            target.owner,
            title,
            parsed.text,
            doc_id=target.doc_id,
            source=f"s3://{obj.bucket}/{obj.key}",
            content_type=parsed.content_type,
        )


def handle_event(event: dict[str, Any], uploads: DocumentUploads, store: DocumentStore) -> dict[str, Any]:
    """Ingest every object the event names: what the Lambda handler returns (ids, never text)."""
    ingested: list[dict[str, Any]] = []
    skipped: list[str] = []
    for obj in uploaded_objects(event):
        result = uploads.ingest_object(obj, store)
        if result is None:
            skipped.append(obj.key)
        else:
            ingested.append({"doc_id": result.doc_id, "owner": result.owner, "chunks": result.chunks})
    return {"ingested": ingested, "skipped": skipped}
