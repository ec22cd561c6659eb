"""The gallery's tables. Column names are the API's field names wherever the API has one."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, reconstructor, relationship, validates
from sqlalchemy.orm.attributes import set_committed_value

from studio.core.config import base_url_host


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


LATENCY_RANK_WHERE = "status = 'succeeded' AND latency_s IS NOT NULL"  # the rows Insights ranks by latency


class Generation(Base):
    """One request to the Images API, kept whether it succeeded or not."""

    __tablename__ = "generations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, succeeded, failed
    provider: Mapped[str] = mapped_column(String(64))
    base_url_host: Mapped[str] = mapped_column(String(255))  # never the key, never the full URL's secrets
    # The request, as the user set it (None: not sent, the provider's default applied).
    prompt: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(128))
    n: Mapped[int | None] = mapped_column(Integer)
    size: Mapped[str | None] = mapped_column(String(16))
    quality: Mapped[str | None] = mapped_column(String(16))
    background: Mapped[str | None] = mapped_column(String(16))
    moderation: Mapped[str | None] = mapped_column(String(16))
    output_format: Mapped[str | None] = mapped_column(String(8))
    output_compression: Mapped[int | None] = mapped_column(Integer)
    response_format: Mapped[str | None] = mapped_column(String(16))
    user: Mapped[str | None] = mapped_column(String(255))
    stream: Mapped[bool | None] = mapped_column(Boolean)  # what was sent: False after a fallback from streaming
    partial_images: Mapped[int | None] = mapped_column(Integer)
    input_fidelity: Mapped[str | None] = mapped_column(String(8))
    complexity: Mapped[str | None] = mapped_column(String(8))  # gpt-image-2.6 (migration 0008)
    frame_count: Mapped[int | None] = mapped_column(Integer)  # frames of a gif (migration 0008)
    endpoint: Mapped[str] = mapped_column(String(16), default="generations", server_default="generations")  # or "edits"
    # What came back.
    created: Mapped[int | None] = mapped_column(Integer)  # the API's unix timestamp
    response_size: Mapped[str | None] = mapped_column(String(16))
    response_quality: Mapped[str | None] = mapped_column(String(16))
    response_background: Mapped[str | None] = mapped_column(String(16))
    response_output_format: Mapped[str | None] = mapped_column(String(8))
    input_tokens: Mapped[int | None] = mapped_column(Integer)
    output_tokens: Mapped[int | None] = mapped_column(Integer)
    total_tokens: Mapped[int | None] = mapped_column(Integer)
    usage: Mapped[dict | None] = mapped_column(JSON)
    latency_s: Mapped[float | None] = mapped_column(Float)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    http_status: Mapped[int | None] = mapped_column(Integer)
    worker: Mapped[str | None] = mapped_column(String(128))  # host:pid that sent a pending request
    # A provider-side task (migration 0010): kept before it is polled, so another process can poll it again.
    task_id: Mapped[str | None] = mapped_column(String(128))
    task_poll_path: Mapped[str | None] = mapped_column(String(512))  # relative to the provider's base URL
    task_status: Mapped[str | None] = mapped_column(String(16))  # the last poll's status, normalised (core/task_api.py)
    task_submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    task_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The generation whose prompt this one's was edited from ("use these settings", the prompt history):
    # the prompt's versions are the chain of parents (migration 0011). Not a foreign key: SQLite can add one
    # to an existing table only by copying it, and dropping the old copy with foreign keys on would
    # cascade-delete every image. A deleted parent leaves an id that matches no row (the versions end
    # there); it is never reused while the child exists, as a child's id is always the larger.
    prompt_parent_id: Mapped[int | None] = mapped_column(Integer, index=True)

    images: Mapped[list["Image"]] = relationship(
        back_populates="generation", order_by="Image.batch_index", cascade="all, delete-orphan"
    )
    # An edit's inputs, always loaded with the generation (a handful of rows, one IN query per page).
    sources: Mapped[list["GenerationSource"]] = relationship(
        order_by="GenerationSource.position", cascade="all, delete-orphan", lazy="selectin"
    )

    @validates("base_url_host")
    def _host_only(self, _key: str, value: str) -> str:
        """Never a user name or password, whoever sets it."""
        return base_url_host(value) if value and "@" in value else value

    @reconstructor
    def _hide_old_credentials(self) -> None:
        """A row written before credentials were refused may hold `user:pass@host`: it is read as the host
        alone (without marking the row changed, so a read-only gallery is not written to)."""
        host = self.__dict__.get("base_url_host")
        if host and "@" in host:
            set_committed_value(self, "base_url_host", base_url_host(host))

    __table_args__ = (
        Index("ix_generations_created_at_id", "created_at", "id"),
        Index("ix_generations_status", "status"),
        # Gallery filters that are common and selective walk these in sort order (migration 0003).
        Index("ix_generations_status_created_at_id", "status", "created_at", "id"),
        Index("ix_generations_model_created_at_id", "model", "created_at", "id"),
        # Insights' latency ranking (migration 0007): succeeded rows in model × quality × size × latency
        # order, so its GROUP BY and its ROW_NUMBER window read the index in order instead of sorting.
        # The expressions must match db/insights.py's QUALITY and SIZE exactly, 'auto' included. Partial,
        # so the other `status = ?` queries keep their plans (without it SQLite took it for them and read
        # the table out of order: spend and images per day got slower); status leads so that, with no
        # statistics, SQLite sees it as selective as the status indexes and takes it for the order it gives.
        # The Gallery's equality filters, every one bound, then the sort key (migration 0013): a combination
        # gallery_facets says is rare is read from here. The expressions are browse.py's EFFECTIVE ones.
        Index("ix_generations_facets", text("coalesce(response_background, background)"),
              text("coalesce(response_output_format, output_format)"), text("coalesce(response_size, size)"),
              text("coalesce(response_quality, quality)"), "model", "status", "created_at", "id"),
        Index("ix_generations_latency_rank", "status", "model", text("coalesce(response_quality, quality, 'auto')"),
              text("coalesce(response_size, size, 'auto')"), "latency_s",
              sqlite_where=text(LATENCY_RANK_WHERE), postgresql_where=text(LATENCY_RANK_WHERE)),
    )


FACETS = ("status", "model", "quality", "size", "background", "output_format")


class GalleryFacet(Base):
    """How many generations have one combination of the Gallery's equality filters (status, model and the
    effective quality, size, background, output_format; '' for none), kept by triggers (migration 0013)."""

    __tablename__ = "gallery_facets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(128))
    model: Mapped[str] = mapped_column(String(128))
    quality: Mapped[str] = mapped_column(String(128))
    size: Mapped[str] = mapped_column(String(128))
    background: Mapped[str] = mapped_column(String(128))
    output_format: Mapped[str] = mapped_column(String(128))
    generations: Mapped[int] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint(*FACETS, name="uq_gallery_facets"),)


class Image(Base):
    """One image file of a generation. Files are content-addressed, so rows may share a file."""

    __tablename__ = "images"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation_id: Mapped[int] = mapped_column(ForeignKey("generations.id", ondelete="CASCADE"), index=True)
    batch_index: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(512))  # relative to the data dir
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(8))  # what the bytes are, read by Pillow
    bytes: Mapped[int] = mapped_column(Integer)
    revised_prompt: Mapped[str | None] = mapped_column(Text)
    # Gallery (migration 0003): a small WebP beside the original, and the user's mark.
    thumbnail_path: Mapped[str | None] = mapped_column(String(512))
    favourite: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The generation's created_at, copied by triggers on both tables (migration 0014; never set by the
    # studio): with it, ix_images_favourite_sort gives the favourites in the Gallery's sort order.
    generation_created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    generation: Mapped[Generation] = relationship(back_populates="images")

    __table_args__ = (
        Index("ix_images_generation_id_batch_index", "generation_id", "batch_index"),
        Index("ix_images_favourite_generation_id", "favourite", "generation_id"),
        Index("ix_images_favourite_sort", "favourite", "generation_created_at", "generation_id", "batch_index"),
    )


class Collection(Base):
    """A named set of images the user gathers by hand (an image may be in several)."""

    __tablename__ = "collections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CollectionImage(Base):
    __tablename__ = "collection_images"

    collection_id: Mapped[int] = mapped_column(ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

class GenerationSource(Base):
    """One input file of an edit: a reference image (`role` "image", in the order sent) or the mask.

    `image_id` links to the gallery image it was taken from, which is what makes lineage
    (source -> edit -> edit); it is null for an uploaded file, whose bytes are kept in storage all the same.
    """

    __tablename__ = "generation_sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation_id: Mapped[int] = mapped_column(ForeignKey("generations.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(8))  # image, mask
    image_id: Mapped[int | None] = mapped_column(ForeignKey("images.id", ondelete="SET NULL"), index=True)
    filename: Mapped[str | None] = mapped_column(String(255))
    path: Mapped[str] = mapped_column(String(512))  # relative to the data dir
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(8))
    bytes: Mapped[int] = mapped_column(Integer)
class CompareGroup(Base):
    """One comparison: a prompt run over a grid of quality (rows) x an optional second axis (columns)."""

    __tablename__ = "compare_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    prompt: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(128))
    axis: Mapped[str | None] = mapped_column(String(32))  # size, model, background or output_format; None: quality only
    request: Mapped[dict] = mapped_column(JSON)  # the fields every cell shares (ImageRequest names)
    winner_position: Mapped[int | None] = mapped_column(Integer)

    cells: Mapped[list["CompareCell"]] = relationship(
        back_populates="group", order_by="CompareCell.position", cascade="all, delete-orphan"
    )


class CompareCell(Base):
    """One cell of a comparison; its generation is a normal gallery generation."""

    __tablename__ = "compare_cells"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("compare_groups.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # row-major: quality row, then axis column
    quality: Mapped[str] = mapped_column(String(16))
    axis_value: Mapped[str | None] = mapped_column(String(128))
    # Null until the cell's request is recorded, and again if that generation is deleted from the gallery.
    generation_id: Mapped[int | None] = mapped_column(ForeignKey("generations.id", ondelete="SET NULL"), index=True)

    group: Mapped[CompareGroup] = relationship(back_populates="cells")
    generation: Mapped[Generation | None] = relationship()

    __table_args__ = (UniqueConstraint("group_id", "position", name="uq_compare_cells_group_position"),)


class ArenaVote(Base):
    """One blind vote between two images of the same prompt from different tiers (migration 0006).

    Each side's tier (model, quality, size) is copied in, so a vote still counts after its images or
    comparison are deleted from the gallery (their ids then become null)."""

    __tablename__ = "arena_votes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("compare_groups.id", ondelete="SET NULL"), index=True)
    choice: Mapped[str] = mapped_column(String(8))  # left, right or tie (as the images were shown)
    left_image_id: Mapped[int | None] = mapped_column(ForeignKey("images.id", ondelete="SET NULL"), index=True)
    left_model: Mapped[str] = mapped_column(String(128))
    left_quality: Mapped[str] = mapped_column(String(16))
    left_size: Mapped[str | None] = mapped_column(String(16))
    right_image_id: Mapped[int | None] = mapped_column(ForeignKey("images.id", ondelete="SET NULL"), index=True)
    right_model: Mapped[str] = mapped_column(String(128))
    right_quality: Mapped[str] = mapped_column(String(16))
    right_size: Mapped[str | None] = mapped_column(String(16))


class PromptVector(Base):
    """What a generation's prompt (ordinal 0) or one of its distinct revised prompts (1, 2, ...) means, as
    a vector of the meaning model named in `model` (migration 0012). Written just after the generation is
    committed, or by the backfill; int8 bytes, read whole into the in-memory index (studio/meaning)."""

    __tablename__ = "prompt_vectors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation_id: Mapped[int] = mapped_column(ForeignKey("generations.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(64))
    ordinal: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(16))  # prompt or revised_prompt
    vector: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (
        UniqueConstraint("generation_id", "model", "ordinal", name="uq_prompt_vectors_generation_model_ordinal"),
        Index("ix_prompt_vectors_model_id", "model", "id"),  # the index loads by id, counts and finds its top id
    )


class Job(Base):
    """One generate, edit or compare-cell request run in the background (migration 0009): recorded before
    anything is sent, then queued -> running -> succeeded / failed / cancelled / interrupted. The generation
    row is written by the studio as for any request; `generation_id` points at it once it exists."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    kind: Mapped[str] = mapped_column(String(16))  # generate, edit, compare
    provider: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(128))
    request: Mapped[dict] = mapped_column(JSON)  # the ImageRequest's fields, so a queued job can run after a restart
    worker: Mapped[str | None] = mapped_column(String(128))  # host:pid:start of the process that runs it
    generation_id: Mapped[int | None] = mapped_column(ForeignKey("generations.id", ondelete="SET NULL"), index=True)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    # A batch line: which file and line it came from, and the key a second run of the file skips it by.
    batch_key: Mapped[str | None] = mapped_column(String(64), index=True)
    batch_file: Mapped[str | None] = mapped_column(String(512))
    batch_line: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_jobs_status_id", "status", "id"),)
