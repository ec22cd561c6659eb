"""Changes to image rows (favourite, collections, delete, import, thumbnails) and the whole-gallery facts
export, import and the doctor read. Browsing reads live in `browse.py`; this module is the one that writes."""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from sqlalchemy import Engine, exists, select
from sqlalchemy.orm import sessionmaker

from studio.core.errors import StudioError
from studio.db.models import Collection, CollectionImage, Generation, GenerationSource, Image


class ImageRecords:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    # --- the user's changes ---------------------------------------------------------------------

    def set_favourite(self, image_ids: Iterable[int], value: bool) -> int:
        ids = list(image_ids)
        with self.sessions.begin() as session:
            result = session.execute(Image.__table__.update().where(Image.id.in_(ids)).values(favourite=value))
            return result.rowcount

    def add_to_collection(self, name: str, image_ids: Iterable[int]) -> int:
        """Add the images to the collection called `name` (made if new); returns the collection's id."""
        name = name.replace("\x00", "").strip()  # PostgreSQL refuses NUL in text; it is never meant
        if not name:
            raise StudioError("The collection needs a name; type one.", "bad_collection")
        ids = list(image_ids)
        with self.sessions.begin() as session:
            collection = session.scalar(select(Collection).where(Collection.name == name))
            if collection is None:
                collection = Collection(name=name)
                session.add(collection)
                session.flush()
            present = set(session.scalars(select(CollectionImage.image_id).where(
                CollectionImage.collection_id == collection.id, CollectionImage.image_id.in_(ids))))
            session.add_all(CollectionImage(collection_id=collection.id, image_id=i) for i in ids if i not in present)
            return collection.id

    def delete(self, items: Sequence[tuple[int, int | None]]) -> set[str]:
        """Delete images (generation_id, image_id) and image-less generations (generation_id, None); a
        generation whose last image goes is deleted too. Returns the file paths no row uses any more,
        for the caller to remove after this commit (so a crash can leave a stray file, never a row
        pointing at nothing)."""
        image_ids = [i for _, i in items if i is not None]
        generation_ids = {g for g, i in items if i is None}
        with self.sessions.begin() as session:
            files = session.execute(select(Image.path, Image.thumbnail_path, Image.generation_id).where(Image.id.in_(image_ids))).all()
            touched = {g for _, _, g in files}
            if image_ids:
                session.execute(Image.__table__.delete().where(Image.id.in_(image_ids)))
            emptied = set(session.scalars(
                select(Generation.id).where(Generation.id.in_(touched), ~exists().where(Image.generation_id == Generation.id))))
            doomed = generation_ids | emptied
            sources: list[str] = []
            if doomed:
                # Images of a deleted generation go with it (and their files are checked below), and so do the
                # input files of a deleted edit (its uploads), unless another row still uses them.
                files += session.execute(select(Image.path, Image.thumbnail_path, Image.generation_id).where(Image.generation_id.in_(doomed))).all()
                sources = list(session.scalars(select(GenerationSource.path).where(GenerationSource.generation_id.in_(doomed))))
                session.execute(GenerationSource.__table__.delete().where(GenerationSource.generation_id.in_(doomed)))
                session.execute(Image.__table__.delete().where(Image.generation_id.in_(doomed)))
                session.execute(Generation.__table__.delete().where(Generation.id.in_(doomed)))
            candidates = {p for path, thumb, _ in files for p in (path, thumb) if p} | set(sources)
            # An edit made from a gallery image points at the same content-addressed file: keep it for the edit.
            still_used = set()
            for column in (Image.path, Image.thumbnail_path, GenerationSource.path):
                still_used |= set(session.scalars(select(column).where(column.in_(candidates)).distinct()))
        return candidates - still_used

    # --- whole-gallery facts, for export, import and the doctor ---------------------------------

    def images_with_generations(self, image_ids: Sequence[int]) -> list[tuple[Image, Generation]]:
        with self.sessions() as session:
            rows = session.execute(select(Image, Generation).join(Generation).where(Image.id.in_(list(image_ids))).order_by(Image.id))
            return [(image, generation) for image, generation in rows]

    def known_sha256(self, digests: Iterable[str]) -> set[str]:
        digests = list(digests)
        with self.engine.connect() as connection:
            return set(connection.scalars(select(Image.sha256).where(Image.sha256.in_(digests)).distinct()))

    def add_generation(self, generation: dict[str, Any], images: Sequence[dict[str, Any]]) -> int:
        with self.sessions.begin() as session:
            row = Generation(**generation)
            session.add(row)
            session.flush()
            session.add_all(Image(generation_id=row.id, **image) for image in images)
            return row.id

    def file_rows(self) -> list[tuple[int, str, str | None, str]]:
        """(image id, path, thumbnail_path, format) of every image, in id order."""
        with self.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(select(Image.id, Image.path, Image.thumbnail_path, Image.format).order_by(Image.id))]

    def source_paths(self) -> set[str]:
        """The files edits were made from (gallery images under images/, uploads under uploads/)."""
        with self.engine.connect() as connection:
            return set(connection.scalars(select(GenerationSource.path).distinct()))

    def set_thumbnail(self, image_ids: Sequence[int], path: str | None) -> None:
        with self.sessions.begin() as session:
            session.execute(Image.__table__.update().where(Image.id.in_(list(image_ids))).values(thumbnail_path=path))

    def delete_image_rows(self, image_ids: Sequence[int]) -> set[str]:
        """Drop image rows only (their generation, with its prompt, stays): for files that are gone.
        Returns the thumbnail paths no row uses any more."""
        ids = list(image_ids)
        with self.sessions.begin() as session:
            thumbs = set(session.scalars(select(Image.thumbnail_path).where(Image.id.in_(ids), Image.thumbnail_path.is_not(None))))
            session.execute(Image.__table__.delete().where(Image.id.in_(ids)))
            used = set(session.scalars(select(Image.thumbnail_path).where(Image.thumbnail_path.in_(thumbs))))
        return thumbs - used
