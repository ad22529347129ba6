"""Customer PII: Chinese names, e-mail addresses and mobile numbers, vectorised.

Names are surname + one or two given-name characters, drawn from frequency-weighted
tables; e-mails romanise the same name (pinyin) and end in the customer id so they
are unique; phones are 11-digit mobiles whose last eight digits are a bijection of
the id, so they are unique too (no retry loops).
"""

from __future__ import annotations

import numpy as np

# (surname, pinyin, relative frequency) — the most common Chinese surnames.
# fmt: off
SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("王", "wang", 7.1), ("李", "li", 7.0), ("张", "zhang", 6.8), ("刘", "liu", 5.4),
    ("陈", "chen", 4.6), ("杨", "yang", 3.2), ("黄", "huang", 2.4), ("赵", "zhao", 2.2),
    ("吴", "wu", 2.0), ("周", "zhou", 1.9), ("徐", "xu", 1.3), ("孙", "sun", 1.3),
    ("马", "ma", 1.2), ("朱", "zhu", 1.2), ("胡", "hu", 1.1), ("郭", "guo", 1.1),
    ("何", "he", 1.0), ("高", "gao", 1.0), ("林", "lin", 1.0), ("罗", "luo", 0.9),
    ("郑", "zheng", 0.9), ("梁", "liang", 0.8), ("谢", "xie", 0.7), ("宋", "song", 0.7),
    ("唐", "tang", 0.6), ("许", "xu", 0.6), ("韩", "han", 0.6), ("冯", "feng", 0.6),
    ("邓", "deng", 0.6), ("曹", "cao", 0.5), ("彭", "peng", 0.5), ("曾", "zeng", 0.5),
    ("肖", "xiao", 0.5), ("田", "tian", 0.5), ("董", "dong", 0.5), ("袁", "yuan", 0.5),
    ("潘", "pan", 0.4), ("于", "yu", 0.4), ("蒋", "jiang", 0.4), ("蔡", "cai", 0.4),
    ("余", "yu", 0.4), ("杜", "du", 0.4), ("叶", "ye", 0.4), ("程", "cheng", 0.4),
    ("苏", "su", 0.4), ("魏", "wei", 0.4), ("吕", "lv", 0.4), ("丁", "ding", 0.4),
    ("任", "ren", 0.3), ("沈", "shen", 0.3), ("姚", "yao", 0.3), ("卢", "lu", 0.3),
    ("姜", "jiang", 0.3), ("崔", "cui", 0.3), ("钟", "zhong", 0.3), ("谭", "tan", 0.3),
    ("陆", "lu", 0.3), ("汪", "wang", 0.3), ("范", "fan", 0.3), ("金", "jin", 0.3),
    ("石", "shi", 0.3), ("廖", "liao", 0.3), ("贾", "jia", 0.3), ("夏", "xia", 0.3),
    ("韦", "wei", 0.2), ("方", "fang", 0.2), ("白", "bai", 0.2), ("邹", "zou", 0.2),
    ("孟", "meng", 0.2), ("熊", "xiong", 0.2), ("秦", "qin", 0.2), ("邱", "qiu", 0.2),
    ("江", "jiang", 0.2), ("尹", "yin", 0.2), ("薛", "xue", 0.2), ("段", "duan", 0.2),
    ("雷", "lei", 0.2), ("侯", "hou", 0.2), ("龙", "long", 0.2), ("史", "shi", 0.2),
    ("欧阳", "ouyang", 0.05), ("司马", "sima", 0.02), ("诸葛", "zhuge", 0.01),
)

# (character, pinyin) used in given names, by gender.
GIVEN_FEMALE: tuple[tuple[str, str], ...] = (
    ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("艳", "yan"), ("娟", "juan"), ("霞", "xia"), ("婷", "ting"), ("雪", "xue"),
    ("慧", "hui"), ("颖", "ying"), ("琳", "lin"), ("欣", "xin"), ("怡", "yi"),
    ("萍", "ping"), ("燕", "yan"), ("玲", "ling"), ("佳", "jia"), ("悦", "yue"),
    ("晨", "chen"), ("梦", "meng"), ("琪", "qi"), ("涵", "han"), ("婉", "wan"),
    ("璐", "lu"), ("倩", "qian"), ("妍", "yan"), ("露", "lu"), ("薇", "wei"),
    ("秀", "xiu"), ("英", "ying"), ("红", "hong"), ("梅", "mei"), ("兰", "lan"),
)
GIVEN_MALE: tuple[tuple[str, str], ...] = (
    ("伟", "wei"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("勇", "yong"),
    ("杰", "jie"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("鹏", "peng"),
    ("浩", "hao"), ("宇", "yu"), ("俊", "jun"), ("斌", "bin"), ("辉", "hui"),
    ("刚", "gang"), ("鑫", "xin"), ("波", "bo"), ("凯", "kai"), ("峰", "feng"),
    ("博", "bo"), ("阳", "yang"), ("昊", "hao"), ("轩", "xuan"), ("睿", "rui"),
    ("泽", "ze"), ("然", "ran"), ("航", "hang"), ("文", "wen"), ("建", "jian"),
    ("国", "guo"), ("平", "ping"), ("志", "zhi"), ("华", "hua"), ("亮", "liang"),
)
# fmt: on

# (domain, relative frequency) — mainstream Chinese and international mailboxes.
EMAIL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("qq.com", 0.38),
    ("163.com", 0.22),
    ("126.com", 0.09),
    ("sina.com", 0.06),
    ("foxmail.com", 0.05),
    ("outlook.com", 0.08),
    ("gmail.com", 0.07),
    ("139.com", 0.05),
)

# China Mobile / Unicom / Telecom prefixes starting 13x, 15x, 18x.
PHONE_PREFIXES: tuple[str, ...] = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
    "150", "151", "152", "153", "155", "156", "157", "158", "159",
    "180", "181", "182", "183", "185", "186", "187", "188", "189",
)  # fmt: skip

SINGLE_CHAR_GIVEN_SHARE = 0.3
_PHONE_MULTIPLIER = 48_271_367  # odd and coprime with 10**8 → id ↦ suffix is a bijection


def draw_names(
    rng: np.random.Generator, female: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Chinese full names and their pinyin (surname first), one per customer."""
    n = len(female)
    s_idx = rng.choice(len(SURNAMES), size=n, p=_weights([w for *_, w in SURNAMES]))
    surname = np.array([s for s, _, _ in SURNAMES])[s_idx]
    surname_py = np.array([p for _, p, _ in SURNAMES])[s_idx]
    g1, g1_py = _given(rng, female)
    g2, g2_py = _given(rng, female)
    single = rng.random(n) < SINGLE_CHAR_GIVEN_SHARE
    g2 = np.where(single, "", g2)
    g2_py = np.where(single, "", g2_py)
    name = np.char.add(np.char.add(surname, g1), g2)
    given_py = np.char.add(g1_py, g2_py)
    return name, np.stack([surname_py, given_py])


def draw_emails(
    rng: np.random.Generator, pinyin: np.ndarray, customer_id: np.ndarray
) -> np.ndarray:
    """`wangfang1024@qq.com` or `fang.wang1024@163.com`; the id suffix keeps them unique."""
    surname_py, given_py = pinyin
    n = len(customer_id)
    western = rng.random(n) < 0.3
    local = np.where(
        western,
        np.char.add(np.char.add(given_py, "."), surname_py),
        np.char.add(surname_py, given_py),
    )
    domains = np.array([d for d, _ in EMAIL_DOMAINS])
    domain = domains[rng.choice(len(domains), size=n, p=_weights([w for _, w in EMAIL_DOMAINS]))]
    at_domain = np.char.add("@", domain)
    return np.char.add(np.char.add(local, customer_id.astype(str)), at_domain)


def draw_phones(rng: np.random.Generator, customer_id: np.ndarray) -> np.ndarray:
    """11-digit mobile numbers (VARCHAR), unique because the suffix is a bijection of id."""
    prefix = np.array(PHONE_PREFIXES)[rng.integers(0, len(PHONE_PREFIXES), len(customer_id))]
    suffix = (customer_id.astype(np.int64) * _PHONE_MULTIPLIER + 3_141_592) % 10**8
    return np.char.add(prefix, np.char.zfill(suffix.astype(str), 8))


def _given(rng: np.random.Generator, female: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One given-name character (and its pinyin) per person, gender-appropriate."""
    n = len(female)
    f_idx = rng.integers(0, len(GIVEN_FEMALE), n)
    m_idx = rng.integers(0, len(GIVEN_MALE), n)
    f_char = np.array([c for c, _ in GIVEN_FEMALE])[f_idx]
    m_char = np.array([c for c, _ in GIVEN_MALE])[m_idx]
    f_py = np.array([p for _, p in GIVEN_FEMALE])[f_idx]
    m_py = np.array([p for _, p in GIVEN_MALE])[m_idx]
    return np.where(female, f_char, m_char), np.where(female, f_py, m_py)


def _weights(values: list[float]) -> np.ndarray:
    w = np.asarray(values, dtype=float)
    return w / w.sum()
