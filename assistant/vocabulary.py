"""Word tables the offline planner reads besides the catalog: grammar, not business terms.

Business terms (metrics, dimensions, values) live only in the catalog. What is
here is how people phrase a question around them: breakdown markers, ranking,
comparison words, follow-up cues, and filler words that carry no meaning.
"""

from __future__ import annotations

import re

#: Requests to change data: refused before planning, nothing runs.
WRITE_INTENT = re.compile(
    r"删除|删掉|删了|清空|清除|修改数据|修改订单|修改客户|改一下数据|更新数据|更新订单|更新客户|插入|写入|覆盖|篡改|"
    r"\b(drop|delete|truncate|update|insert|alter|grant|revoke|merge|attach|detach|copy|pragma|install|vacuum|create\s+table)\b",
    re.IGNORECASE,
)
#: Setting a number is a write too: "把华东去年的销售额改成1000万".
SET_VALUE = re.compile(r"(改成|改为|设为|设置为|调整为|修改为|改到|set (?:it )?to|change (?:it )?to)\s*[\d一二三四五六七八九十]|"
                       r"把.*(状态|记录|数据|价格|金额|信息|资料|等级).*(改成|改为|设为|设置为|调整为|修改为|标记为|变成|变为)|"
                       r"\b(mark|set|change)\b.*\b(status|record|records|price|tier)\b.*\b(to|as)\b", re.IGNORECASE)
#: Actions on customers: we analyse and suggest, we do not act.
ACTION_REQUEST = re.compile(r"群发|发短信|发送|发券|发优惠券|推送|发邮件|打电话|send (?:an? )?(?:sms|email|message|coupons?|text)|"
                            r"email (?:them|all|every)|text (?:them|all)|notify (?:them|all)|call (?:them|all)", re.IGNORECASE)
#: Other companies' numbers are not in our warehouse.
COMPETITOR = re.compile(r"竞争对手|竞品|对手|友商|拼多多|京东|淘宝|天猫|唯品会|阿里巴巴|苏宁|competitors?|rivals?|competition|"
                        r"\b(amazon|walmart|costco|alibaba|jd\.com|taobao|tmall|pinduoduo)\b", re.IGNORECASE)
#: "X有多少个/人": counting without a metric word.
COUNT_WORDS = re.compile(r"多少个|多少人|多少位|多少名|多少客户|多少用户|多少会员|几个|几位|几人|几名|有多少|how many|number of|count of",
                         re.IGNORECASE)
ORDER_WORDS = re.compile(r"单|订单|\borders?\b", re.IGNORECASE)
#: "华东和华南各自的销售额": the named values are a breakdown, not one total.
EACH_VALUE = re.compile(r"各自|分别|各有|各是|各占|respectively|\beach\b", re.IGNORECASE)
#: An analysis asked for as such ("ABC分析", "run an ABC analysis").
ANALYSIS_ASKED = re.compile(r"分析|analysis|analyse|analyze", re.IGNORECASE)
#: "orders under 100 yuan", "单笔超过500元": a money amount names the order amount.
MONEY_CONDITION = re.compile(
    r"(大于等于|不低于|不少于|至少|小于等于|不超过|不高于|大于|超过|高于|多于|小于|低于|少于|不到|at least|at most|more than|"
    r"greater than|less than|over|above|under|below)\s*(\d+(?:\.\d+)?)\s*(?:元|块|yuan|rmb|cny)", re.IGNORECASE)
MONEY_OPS = {"大于等于": ">=", "不低于": ">=", "不少于": ">=", "至少": ">=", "at least": ">=", "小于等于": "<=", "不超过": "<=",
             "不高于": "<=", "at most": "<=", "大于": ">", "超过": ">", "高于": ">", "多于": ">", "more than": ">",
             "greater than": ">", "over": ">", "above": ">", "小于": "<", "低于": "<", "少于": "<", "不到": "<",
             "less than": "<", "under": "<", "below": "<"}

#: Vague "how is business" questions: ask which metric.
VAGUE = re.compile(r"生意|经营|业务|怎么样|表现|how are we doing|how is business|how's business|how are things", re.IGNORECASE)
#: An unknown word that looks like a metric (转化率, 日活, conversion rate): ask, don't refuse.
METRIC_LIKE = re.compile(r"(率|数|额|量|值|占比|日活|月活|rate|ratio|count|volume|value|dau|mau)$", re.IGNORECASE)

#: SQL pasted into a question: governed mode never runs user SQL.
PASTED_SQL = re.compile(r"\bselect\b[\s\S]*\bfrom\b|;\s*\w|--\s|/\*|\bunion\s+select\b|\bwhere\s+\w+\s*=", re.IGNORECASE)

#: "各地区", "按渠道看", "分品类", "by region", "per month", "across channels".
BREAKDOWN_BEFORE = re.compile(r"(各|按照?|分|每个|每一个|每|不同|以|其他|其余|其它|by|per|each|across|other|split by|broken down by|for each)\s*$",
                              re.IGNORECASE)
BREAKDOWN_AFTER = re.compile(r"^\s*(分别|各自|维度|来看|看|拆分|分布|交叉|breakdown|wise)", re.IGNORECASE)

CN_NUM = r"(\d+|[一二两三四五六七八九十]+)"
TOP_N = re.compile(rf"(?:前|top\s*|最高的?|最多的?|最大的?|排名前|排前|highest\s*|largest\s*|biggest\s*|best\s*|which\s+(?=\d))\s*{CN_NUM}\s*(?:个|名|位|家|条|大)?",
                   re.IGNORECASE)
BOTTOM_N = re.compile(rf"(?:后|倒数|bottom\s*|最低的?|最少的?|最小的?|lowest\s*|smallest\s*|worst\s*)\s*{CN_NUM}\s*(?:个|名|位|家|条)?",
                      re.IGNORECASE)
#: "哪个地区销售额最高" / "which region has the highest revenue": the single top item.
SUPERLATIVE_TOP = re.compile(r"最高|最多|最大|最好|排第一|第一名|highest|most|largest|biggest|best|top\b", re.IGNORECASE)
SUPERLATIVE_BOTTOM = re.compile(r"最低|最少|最小|最差|垫底|lowest|least|smallest|worst|bottom\b", re.IGNORECASE)
WHICH = re.compile(r"哪个|哪一个|哪家|哪些|哪|which|what\s+\w+\s+(?:has|had|have)", re.IGNORECASE)
SHARE = re.compile(r"占比|比重|份额|构成|占多少|share|proportion|percentage of total|mix\b", re.IGNORECASE)

#: Numeric conditions: "订单金额大于1000", "customers under 30", "30岁以下".
COMPARATORS = [
    (re.compile(r"^\s*(?:大于等于|不低于|不少于|至少|>=|≥|at least|no less than)\s*(\d+(?:\.\d+)?)", re.I), ">="),
    (re.compile(r"^\s*(?:小于等于|不超过|不高于|最多|<=|≤|at most|no more than)\s*(\d+(?:\.\d+)?)", re.I), "<="),
    (re.compile(r"^\s*(?:大于|超过|高于|多于|>|more than|greater than|over|above|exceeding)\s*(\d+(?:\.\d+)?)", re.I), ">"),
    (re.compile(r"^\s*(?:小于|低于|少于|不到|<|less than|under|below|fewer than)\s*(\d+(?:\.\d+)?)", re.I), "<"),
    (re.compile(r"^\s*(?:在|介于|between)?\s*(\d+(?:\.\d+)?)\s*(?:到|至|-|~|and|to)\s*(\d+(?:\.\d+)?)\s*(?:之间)?", re.I), "between"),
    (re.compile(r"^\s*(?:等于|为|是|=|equal to|equals)\s*(\d+(?:\.\d+)?)", re.I), "="),
]
#: Age written as a number of years: "30岁以下", "under 30 years old", "40岁以上".
AGE_PHRASES = [
    (re.compile(r"(\d+)\s*岁?\s*(?:以下|以内|及以下)"), "<"),
    (re.compile(r"(\d+)\s*岁?\s*(?:以上|及以上)"), ">="),
    (re.compile(r"(?:under|below|younger than)\s+(\d+)(?!\s*(?:yuan|rmb|元|块|cny|dollars?|\$|\d))(?:\s+years?\s+old)?", re.I), "<"),
    (re.compile(r"(?:over|above|older than)\s+(\d+)(?!\s*(?:yuan|rmb|元|块|cny|dollars?|\$|\d))(?:\s+years?\s+old)?", re.I), ">"),
    (re.compile(r"(\d+)\s*(?:到|至|-|~)\s*(\d+)\s*岁"), "between"),
]

#: Follow-up cues: the question edits the previous query instead of starting anew.
FOLLOW_UP = re.compile(r"\binstead\b|也加上|加上|也看|一起看|also show|\badd\b|^\s*(那|那么|那如果|再|还有|也|另外|换成|改成|改为|换为|只看|只要|仅看|去掉|不要|and\b|what about|how about|"
                       r"instead|only|just|now|same for|also|switch to|remove|drop the|without)|呢\s*[?？]?\s*$|就行|就好|即可",
                       re.IGNORECASE)
REPLACE_METRIC = re.compile(r"换成|改成|改为|换为|换个指标|switch to|instead|what about|how about|show .* instead", re.IGNORECASE)
ADD_DIMENSION = re.compile(r"再按|也按|加上|增加|同时按|and also by|also by|add ", re.IGNORECASE)
DROP_TIME = re.compile(r"去掉时间|不限时间|不要时间|取消时间|所有时间|全部时间|历史全部|全部数据|all time|remove the time|no time (?:filter|limit)|"
                       r"without (?:the )?time|over all time|drop the time", re.IGNORECASE)
DROP_FILTERS = re.compile(r"去掉(?:所有)?(?:筛选|过滤|条件)|不要(?:筛选|过滤)|取消(?:筛选|过滤)|remove (?:the |all )?filters?|clear (?:the )?filters?",
                          re.IGNORECASE)
EXCLUDE = re.compile(r"(?:不含|不包括|排除|除了|去掉|不看|excluding|except|exclude|without|other than)\s*$", re.IGNORECASE)

#: Fillers that carry no meaning for the query (longest first at use). Single characters
#: only where they never start a content word (particles), so 天气 is not read as 天 + 气.
ZH_FILLER = sorted(set("""
全年 整年 全月 整月 全季度 一年 整体上 总的 总的来说
以外 之外 除外 其他 其余 其它 别的 贡献 已经 曾经 客户 用户 顾客 人员 群体 那些 这些
一下 一共 一样 上升 下滑 下降 不低于 不到 不同 不要 不超过 与 与否 个 个月 中 为 为止 么 之外 之间 也 了 交叉 交叉分析 人数 什么 仅 仅看 以上 以下 以内 以及 以外 以来 份额 位 低不低 低于 全部 公司 共 关于 具体 内 再 几个 几位 几家 分 分别 分别是 分布 分析 分析一下 分类 分组 列一下 列出 到 到底 加上 卖了 卖出 占比 即可 去掉 又 及 变动 变化 另外 只 只看 只要 可以 各 各个 各是 各有 各类 各自 合计 同 同时 同比 名 吗 吧 呀 告诉我 呢 和 咱们 哦 哪个 哪些 啊 在 增加 增速 增长 多于 多少 多少钱 大于 大概 如何 如何了 季度 季度的 客户的 家 对于 对比 小于 少于 就 就好 就行 展示 帮忙 帮我 年度 当前 怎么 怎么样 怎么样了 怎么样啊 怎样 总体 总共 情况 想看 想知道 我们 我们的 我想 我要 所有 报表 拆分 拆开 按 按照 换为 换成 排名 排序 排行 提升 改为 改成 数字 数据 整体 方面 是 是否 是多少 显示 最低 最多 最大 最小 最少 最近 最高 月度 有 有没有 期间 条 来看 来说 构成 查 查一下 查下 查询 每 每个 每周 每天 每年 每月 比较 比重 水平 没有 环比 现在 用户 的 的话 目前 看 看一下 看下 看看 第一 等于 算一下 结果 给我 统计 统计一下 维度 能否 至 至今 至少 表现 表现如何 计算 请 请问 走势 超过 趋势 跟 过去 还 还有 逐月 那 那么 都 都是 里 里面 除外 高不高 高于
""".split()), key=len, reverse=True)
EN_FILLER = set("""
what whats what's is are was were be been the a an by of in for per each show me give list how much many our my your their
total overall and or with vs versus compare comparison top bottom highest lowest which who whom has have had do does did
to from between during please breakdown broken down split across at on as it its this that these those there here
last past previous next current year years month months quarter quarters week weeks day days today ytd mtd qtd
all time trend trends over only just also now instead then same about tell can could would you i we us let see get
find across among than more less most least over under above below greater fewer equal equals value values number numbers
rate rates amount amounts count counts by-region wise level levels group groups grouped each every did doing
highest lowest largest smallest biggest best worst rank ranking ranked sorted sort order ordered share shares proportion
monthly quarterly yearly weekly daily annual annually so far date to-date through until since old years-old between
customers customer people users buyers and/or in-store etc please thanks thank hi hello hey
doing came come members member region regions bring brought make made generate generated run yuan rmb cny
""".split())
