"""What every part of the Store (cases.py, clocks.py, people.py, signins.py) stands on: the engine of the one
database the Store is over, and a session on it. repository.py's Store is the parts joined over that engine."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session


class StorePart:
    """The base of the Store's parts: they read and write through `engine`, in sessions from `session()`."""

    engine: Engine

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)
