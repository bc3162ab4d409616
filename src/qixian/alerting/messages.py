"""What a reminder says: the notify/ folder's channel settings and Chinese Jinja2 templates, one message per
recipient per scan (a digest, most urgent first), SMS short and without suspect names, chat in each provider's
own flavour (DingTalk and WeCom markdown, Feishu text). Every value a template writes is escaped for its medium
(qixian.safetext): a case title or a name never becomes a link, markup or a line of its own."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path

import jinja2

from qixian.alerting.ratelimits import Limit, LimitsError, read_limits
from qixian.alerting.signing import LINK_LIFETIME, SigningError, ack_token, web_secret
from qixian.engine.clocks import ClockState
from qixian.legaltime.periods import parse_duration
from qixian.legaltime.yamlsource import ProblemsFound, read_yaml
from qixian.safetext import Trusted, finalizer

LEVELS = {"notice": "提醒", "warning": "预警", "overdue": "超期"}
SEVERITY = {"notice": 0, "warning": 1, "overdue": 2}
WEB_URL_ENV = "QIXIAN_WEB_URL"
_ENV = re.compile(r"\$\{([A-Z0-9_]+)\}")
# The chat flavour of a channel, by its URL scheme; any other chat channel gets DingTalk's (plain CommonMark).
CHAT_FLAVOURS = {"qxdingtalk": "dingtalk", "qxwecom": "wecom", "qxfeishu": "feishu"}
TEMPLATES = {"dingtalk": "chat.dingtalk.md.j2", "wecom": "chat.wecom.md.j2", "feishu": "chat.feishu.txt.j2", "sms": "sms.txt.j2"}
# The daily overdue digest (qixian.alerting.digest), in the same flavours.
DIGEST_TEMPLATES = {
    "digest-dingtalk": "digest.dingtalk.md.j2",
    "digest-wecom": "digest.wecom.md.j2",
    "digest-feishu": "digest.feishu.txt.j2",
    "digest-sms": "digest.sms.txt.j2",
}
DIGEST_LISTED = 20  # clocks a chat digest lists; the rest are counted ("另有N项")


class NotifyConfigError(ValueError):
    """The notify/ folder is missing something; the message says what."""


@dataclass(frozen=True)
class Item:
    """One clock in a message."""

    key: str
    level: str
    case: str
    title: str
    rule_name: str
    person: str
    due: str
    left: str
    state: ClockState  # RUNNING or OVERDUE
    late: bool
    step: str = ""  # the reminder step: 期满前1日 / 期满 / 超期第2次提醒
    ack_url: str = ""  # the signed link that acknowledges this reminder (chat only, when the dashboard has an address)

    @property
    def level_label(self) -> str:
        return LEVELS[self.level]


@dataclass(frozen=True)
class NotifyConfig:
    folder: Path
    sms_url: str | None
    levels: dict[str, tuple[str, ...]]
    tries: int
    backoff_minutes: tuple[int, ...]
    sms_max_segments: int
    web_url: str | None = None  # the dashboard's public address: chat messages then carry acknowledgement links
    link_secret: bytes | None = field(default=None, repr=False)
    ops: tuple[str, ...] = ()  # where `qixian health --alert` tells ops (channel URLs, ${VAR} for secrets)
    limits: dict[str, Limit] = field(default_factory=dict)  # sending limits per channel (qixian.alerting.ratelimits)
    audit: tuple[str, ...] = ()  # who else keeps the delivery log's checkpoints (legal staff), besides ops

    @property
    def plugins(self) -> Path:
        """The channel plugins: the notify folder's own plugins/, else the project's."""
        own = self.folder / "plugins"
        return own if own.is_dir() else Path(__file__).resolve().parents[3] / "notify" / "plugins"

    @classmethod
    def load(cls, folder: Path | str | None = None) -> NotifyConfig:
        folder = notify_dir(folder)
        try:
            data = read_yaml(folder / "channels.yaml") or {}
        except ProblemsFound as found:
            raise NotifyConfigError(str(found.problems[0])) from None
        if not isinstance(data, dict):
            raise NotifyConfigError(f"{folder / 'channels.yaml'}: 应为键值对（sms、levels、retry 等），参照项目自带的 notify/channels.yaml")
        levels = {level: tuple(data.get("levels", {}).get(level, ("chat", "sms"))) for level in LEVELS}
        for level, kinds in levels.items():
            unknown = [k for k in kinds if k not in ("chat", "sms", "duty")]
            if unknown:
                raise NotifyConfigError(f"notify/channels.yaml: levels.{level} 中的渠道 {unknown} 未知，应为 chat、sms、duty")
        retry = data.get("retry") or {}
        backoff = tuple(_minutes(text) for text in retry.get("backoff", ["1 minute", "5 minutes", "30 minutes"]))
        web_url = os.environ.get(WEB_URL_ENV) or (data.get("web") or {}).get("base_url") or None
        secret = None
        if web_url:
            try:
                secret = web_secret()
            except SigningError as exc:
                raise NotifyConfigError(
                    f"已配置期限看板地址 {web_url}（确认链接），但{exc}；或删去 web.base_url 与 {WEB_URL_ENV}，消息中就不带确认链接"
                ) from None
        ops, audit = _urls(data, "ops"), _urls(data, "audit")
        try:
            limits = read_limits(data.get("limits"))
        except LimitsError as exc:
            raise NotifyConfigError(str(exc)) from None
        return cls(
            folder,
            data.get("sms"),
            levels,
            int(retry.get("tries", 2)),
            backoff,
            int(data.get("sms_max_segments", 3)),
            web_url.rstrip("/") if web_url else None,
            secret,
            ops,
            limits,
            audit,
        )

    def ack_url(self, outbox_id: int | None, recipient: str, now: datetime) -> str:
        """The acknowledgement link of one reminder to an officer, or "" (no dashboard address, a dry run's row)."""
        if not self.web_url or outbox_id is None:
            return ""
        assert self.link_secret is not None, "the secret is read with the dashboard's address (load)"
        return Trusted(f"{self.web_url}/ack/{ack_token(self.link_secret, outbox_id, recipient, now + LINK_LIFETIME)}")

    @cached_property
    def templates(self) -> dict[str, jinja2.Template]:
        """Each flavour's template, in an environment that escapes every value it writes for that flavour. Loaded
        once per configuration: compiling the templates for every message cost more than sending it. (trim_blocks
        drops the newline after a block tag: the templates end no line of text with one.)"""
        loader = jinja2.FileSystemLoader(self.folder / "templates")
        try:
            return {
                flavour: jinja2.Environment(
                    loader=loader,
                    autoescape=False,
                    finalize=finalizer(flavour.removeprefix("digest-")),
                    trim_blocks=True,
                    lstrip_blocks=True,
                    undefined=jinja2.StrictUndefined,
                ).get_template(name)
                for flavour, name in {**TEMPLATES, **DIGEST_TEMPLATES}.items()
            }
        except jinja2.TemplateNotFound as exc:
            names = "、".join([*TEMPLATES.values(), *DIGEST_TEMPLATES.values()])
            raise NotifyConfigError(f"{self.folder}/templates 中缺少消息模板 {exc.name}（需要 {names}，可从项目的 notify/templates/ 复制）") from None

    def sms(self, items: list[Item]) -> str:
        """One SMS: as many of the items (most urgent first) as fit in `sms_max_segments` (the first always), then
        how many more."""
        return self._fitted("sms", items, least=1)

    def chat(self, items: list[Item], recipient: str, flavour: str = "dingtalk") -> str:
        """The chat message in a flavour (dingtalk, wecom, feishu): see chat_flavour()."""
        return self.templates[flavour].render(items=items, recipient=recipient).strip()

    def digest_sms(self, items: list[Item]) -> str:
        """The daily overdue digest as one SMS: how many clocks, as many listed as fit, then how many more."""
        return self._fitted("digest-sms", items, least=0)

    def _fitted(self, name: str, items: list[Item], least: int) -> str:
        """The SMS template `name` showing as many of the items as fit in `sms_max_segments` (at least `least` of
        them even if they do not), found by halving: a text grows with the items it shows, and a leader's message
        may list hundreds, each count a render."""
        template, texts = self.templates[name], {}

        def fits(count: int) -> bool:
            texts[count] = template.render(items=items, shown=items[:count]).strip()
            return sms_segments(texts[count]) <= self.sms_max_segments

        if fits(len(items)):
            return texts[len(items)]
        fitting, too_many = 0, len(items)  # 0 stands for "none fits": it is shown only as the last resort
        while too_many - fitting > 1:
            middle = (fitting + too_many) // 2
            fitting, too_many = (middle, too_many) if fits(middle) else (fitting, middle)
        count = max(fitting, least)
        return texts[count] if count in texts else template.render(items=items, shown=items[:count]).strip()

    def digest_chat(self, items: list[Item], recipient: str, flavour: str = "dingtalk") -> str:
        """The daily overdue digest in a chat flavour: the first DIGEST_LISTED clocks, then how many more."""
        return self.templates[f"digest-{flavour}"].render(items=items, shown=items[:DIGEST_LISTED], recipient=recipient).strip()


def chat_flavour(url: str) -> str:
    """How a chat channel shows a message: DingTalk markdown, WeCom markdown or Feishu text."""
    return CHAT_FLAVOURS.get(url.split("://", 1)[0].lower(), "dingtalk")


def _urls(data: dict, name: str) -> tuple[str, ...]:
    """A list of channel URLs in channels.yaml (ops:, audit:)."""
    urls = data.get(name) or []
    if not isinstance(urls, list) or not all(isinstance(url, str) for url in urls):
        raise NotifyConfigError(f'notify/channels.yaml: {name} 应为渠道地址的列表，如 {name}: ["qxdingtalk://${{OPS_DING_SECRET}}@${{OPS_DING_TOKEN}}"]')
    return tuple(urls)


def notify_dir(option: Path | str | None = None) -> Path:
    """The notify folder: the option, else $QIXIAN_NOTIFY, else ./notify, else the project's own notify/."""
    chosen = option or os.environ.get("QIXIAN_NOTIFY")
    candidates = [Path(chosen)] if chosen else [Path("notify"), Path(__file__).resolve().parents[3] / "notify"]
    for candidate in candidates:
        if (candidate / "channels.yaml").is_file():
            return candidate
    raise NotifyConfigError(f"找不到提醒渠道配置 {candidates[0]}/channels.yaml：用 --notify DIR 或环境变量 QIXIAN_NOTIFY 指定")


def expand(url: str, **values: str) -> str:
    """A channel URL with {phone} and the like filled in, and ${VAR} taken from the environment."""
    for name, value in values.items():
        url = url.replace("{" + name + "}", value)

    def env(match: re.Match) -> str:
        if match.group(1) not in os.environ:
            raise NotifyConfigError(f"渠道地址需要环境变量 {match.group(1)}，但它没有设置")
        return os.environ[match.group(1)]

    return _ENV.sub(env, url)


def sms_segments(text: str) -> int:
    """How many SMS segments a text takes: Chinese text is UCS-2, 70 characters, or 67 each when split."""
    if all(ord(c) < 128 for c in text):
        return 1 if len(text) <= 160 else -(-len(text) // 153)
    return 1 if len(text) <= 70 else -(-len(text) // 67)


def _minutes(text: str) -> int:
    duration = parse_duration(str(text))
    factor = {"minutes": 1, "hours": 60, "days": 1440}.get(duration.unit.value)
    if factor is None:
        raise NotifyConfigError(f"notify/channels.yaml: 重试间隔 {text!r} 应以分钟、小时或日计")
    return duration.amount * factor
