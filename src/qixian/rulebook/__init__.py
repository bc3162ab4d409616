"""The rule language: rule files, the event vocabulary and settings, loaded whole or not at all."""

from qixian.rulebook.load import build_pack, load_pack
from qixian.rulebook.model import EventType, Rule, RulePack, Settings

__all__ = ["EventType", "Rule", "RulePack", "Settings", "build_pack", "load_pack"]
