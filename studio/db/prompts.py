"""Prompts as the user sent them: the history (each distinct prompt, most recently sent first, with the newest
image it made) and a prompt's versions (the chain of generations its text was edited from, `prompt_parent_id`)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, Select, and_, bindparam, func, literal, select
from sqlalchemy.orm import aliased, selectinload, sessionmaker

from studio.db.models import Generation, Image

_WORD_RE = re.compile(r"\S+")
MAX_VERSIONS = 200  # a chain longer than this is shown from its newest 200 steps
HISTORY_WINDOW = 100  # generations read at a time for the history, growing fourfold to MAX_WINDOW
MAX_WINDOW = 6400
SENDS_KEPT = 5  # per prompt: its thumbnail is the newest image of its last few sends


@dataclass(frozen=True)
class PromptRow:
    """One distinct prompt of the history."""

    prompt: str
    generation_id: int  # the newest generation that sent it
    last_sent: datetime
    image_id: int | None  # the newest image it made among its recent sends (None: none succeeded)
    path: str | None
    thumbnail_path: str | None


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@functools.cache
def _chain_statements() -> tuple[Select, Select]:
    """The two recursive walks of `versions` (up to the first version, down by the newest child), built once:
    building their aliased CTEs costs ~25 ms of Python each time, far more than running them."""
    start = bindparam("generation_id")
    up = (select(Generation.id, Generation.prompt_parent_id.label("parent"), literal(0).label("depth"))
          .where(Generation.id == start).cte("up", recursive=True))
    older = aliased(Generation)
    up = up.union_all(select(older.id, older.prompt_parent_id, up.c.depth + 1)
                      .where(older.id == up.c.parent, up.c.depth < MAX_VERSIONS))
    down = select(Generation.id, literal(0).label("depth")).where(Generation.id == start).cte("down", recursive=True)
    child, sibling = aliased(Generation), aliased(Generation)
    newest_child = select(func.max(sibling.id)).where(sibling.prompt_parent_id == down.c.id).scalar_subquery()
    down = down.union_all(select(child.id, down.c.depth + 1).select_from(down.join(child, child.id == newest_child))
                          .where(down.c.depth < MAX_VERSIONS))
    return (select(up.c.id, up.c.depth).order_by(up.c.depth.desc()), select(down.c.id, down.c.depth).order_by(down.c.depth))


class PromptRecords:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    def history(self, search: str = "", limit: int = 20) -> list[PromptRow]:
        """Distinct prompts, the most recently sent first (by when the gallery recorded them: an imported one
        counts from its import); `search`: every word must be in the prompt (any case). Refused and failed
        requests count: a prompt the API refused is still in the history.

        Generations are read newest first by id (the table's own order, so a search that matches little reads
        the table once, in order), a window at a time, until `limit` distinct prompts are found: a GROUP BY
        over the whole table took most of a second at 100,000 rows."""
        words = _WORD_RE.findall(search.replace("\x00", ""))
        # SQLite's LIKE already ignores case (ASCII, as its lower() does): without lower() a scan is twice as fast.
        sqlite = self.engine.dialect.name == "sqlite"
        condition = and_(*((Generation.prompt.like if sqlite else Generation.prompt.ilike)(_like(word), escape="\\")
                           for word in words)) if words else None
        found: dict[str, list[tuple[int, datetime]]] = {}  # prompt -> its sends seen, newest first
        window = HISTORY_WINDOW
        after: int | None = None
        with self.sessions() as session:
            while len(found) < limit:
                query = select(Generation.id, Generation.prompt, Generation.created_at).order_by(Generation.id.desc()).limit(window)
                if condition is not None:
                    query = query.where(condition)
                if after is not None:
                    query = query.where(Generation.id < after)
                rows = session.execute(query).all()
                for generation_id, prompt, created_at in rows:
                    if prompt in found:
                        if len(found[prompt]) < SENDS_KEPT:  # enough to find an image among its latest sends
                            found[prompt].append((generation_id, created_at))
                    elif len(found) < limit:
                        found[prompt] = [(generation_id, created_at)]
                if len(rows) < window:
                    break
                after = rows[-1][0]
                window = min(window * 4, MAX_WINDOW)
            seen = [generation_id for sends in found.values() for generation_id, _ in sends]
            newest = dict(session.execute(select(Image.generation_id, func.max(Image.id))
                                          .where(Image.generation_id.in_(seen)).group_by(Image.generation_id)).all()) if seen else {}
            images = {image.id: image for image in session.scalars(select(Image).where(Image.id.in_(list(newest.values()))))}
        result = []
        for prompt, sends in found.items():
            image = next((images[newest[g]] for g, _ in sends if g in newest), None)
            result.append(PromptRow(prompt, sends[0][0], sends[0][1], image.id if image else None,
                                    image.path if image else None, image.thumbnail_path if image else None))
        return result

    def versions(self, generation_id: int) -> list[Generation]:
        """The prompt's versions through `generation_id`, oldest first: its parents up the chain, itself, then
        the versions made from it (following the newest child at each step). Images loaded; [] when not found.
        Two recursive queries walk the chain (up, then down), one more loads the rows: a few round trips
        however long it is, and at most MAX_VERSIONS steps each way (a loop can only come from a hand-made row)."""
        up, down = _chain_statements()
        with self.sessions() as session:
            parents = [row.id for row in session.execute(up, {"generation_id": generation_id})]
            if not parents:
                return []
            children = [row.id for row in session.execute(down, {"generation_id": generation_id})][1:]
            chain = list(dict.fromkeys(parents + children))  # a loop would list an id twice: the first stands
            rows = {g.id: g for g in session.scalars(select(Generation).options(selectinload(Generation.images))
                                                       .where(Generation.id.in_(chain)))}
        return [rows[i] for i in chain if i in rows]
