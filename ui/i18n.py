"""Every UI string in both languages, in one table; ``t(key, lang, **fields)`` picks one.

Model and catalog text is not here: it arrives in the answer's language. A
test checks that every key has both languages and the same ``{fields}``.
"""

from __future__ import annotations

STRINGS: dict[str, tuple[str, str]] = {
    # app shell
    "app_title": ("ChatBI 客户价值分析", "ChatBI customer value analysis"),
    "page_chat": ("对话", "Chat"),
    "page_catalog": ("指标目录", "Metric catalog"),
    "page_admin": ("管理", "Admin"),
    "page_data": ("数据", "Data"),
    "language": ("语言", "Language"),
    "role": ("角色: {role}", "Role: {role}"),
    "as_of_label": ("数据截止日", "Data as of"),
    "as_of": ("数据截止日: {date}", "Data as of: {date}"),
    "warehouse": ("数仓: {name}", "Warehouse: {name}"),
    "catalog_invalid": ("指标目录无效, 请管理员修复:", "The metric catalog is invalid; an admin must fix it:"),
    "unavailable": ("服务暂不可用: {message}", "Service unavailable: {message}"),
    "admins_only": ("此页面仅限管理员。", "This page is for admins only."),
    # chat
    "chat_placeholder": ("用中文或英文提问, 例如: 2025年各地区的销售额", "Ask in English or Chinese, e.g. revenue by month in 2025"),
    "welcome": ("您好! 我可以回答客户与销售相关的问题。试试这些:", "Hi! I answer questions about customers and sales. Try one of these:"),
    "working": ("正在分析: {question}", "Working on: {question}"),
    "step_plan": ("理解问题并生成语义查询…", "Planning the semantic query…"),
    "step_done": ("完成, 用时 {ms} 毫秒", "Done in {ms} ms"),
    "clear_chat": ("清空对话", "Clear conversation"),
    "chip_metric": ("指标", "Metric"),
    "chip_dimension": ("维度", "By"),
    "chip_filter": ("筛选", "Filter"),
    "chip_time": ("时间", "Time"),
    "chip_grain": ("粒度", "Grain"),
    "chip_analysis": ("分析", "Analysis"),
    "chip_limit": ("前 {n} 项", "Top {n}"),
    "all_time": ("全部时间", "All time"),
    "pick_one": ("请选择:", "Pick one:"),
    "narrative": ("解读", "Summary"),
    "suggestions": ("策略建议", "Suggested actions"),
    "definitions": ("口径与定义", "Definitions used"),
    "sql": ("SQL", "SQL"),
    "download_csv": ("下载 CSV", "Download CSV"),
    "download_excel": ("下载 Excel", "Download Excel"),
    "truncated": ("结果已截断, 只显示前 {n} 行。", "Result truncated to the first {n} rows."),
    "no_rows": ("没有符合条件的数据。", "No rows match."),
    "feedback_up": ("回答正确", "Good answer"),
    "feedback_down": ("回答有误", "Wrong answer"),
    "correction": ("正确的应该是什么?(可选, 管理员会据此改进)", "What should it have been? (optional; admins use it)"),
    "send": ("提交反馈", "Send feedback"),
    "thanks": ("感谢反馈!", "Thanks for the feedback!"),
    "ungoverned": ("此答案的 SQL 由模型编写(已通过安全校验, 但不来自指标目录), 请核对口径。",
                   "This answer's SQL was written by the model (guarded, but not from the metric catalog): check it."),
    "status_clarify": ("需要澄清", "Needs clarification"),
    "status_refused": ("无法回答", "Cannot answer"),
    "status_error": ("出错了", "Something went wrong"),
    # grains (table headers for the time column)
    "grain_day": ("日期", "Day"),
    "grain_week": ("周", "Week"),
    "grain_month": ("月份", "Month"),
    "grain_quarter": ("季度", "Quarter"),
    "grain_year": ("年份", "Year"),
    "share_of": ("{label}占比", "{label} share"),
    # catalog
    "catalog_search": ("搜索指标(名称、同义词、描述)", "Search metrics (name, synonym, description)"),
    "catalog_count": ("共 {n} 个指标", "{n} metrics"),
    "names": ("名称", "Names"),
    "synonyms": ("同义词", "Synonyms"),
    "description": ("描述", "Description"),
    "formula": ("公式", "Formula"),
    "compiled_sql": ("编译后的 SQL(仅该指标)", "Compiled SQL (the metric alone)"),
    "examples": ("示例问题", "Example questions"),
    "ask_this": ("提问", "Ask"),
    # admin
    "admin_editor": ("编辑目录", "Edit catalog"),
    "admin_suite": ("黄金测试集", "Golden suite"),
    "admin_feedback": ("用户反馈", "User feedback"),
    "file": ("文件", "File"),
    "content": ("内容(YAML)", "Content (YAML)"),
    "version": ("当前编辑的版本: {version}", "Editing version: {version}"),
    "validate": ("校验", "Validate"),
    "save": ("保存", "Save"),
    "reload": ("重新加载(放弃我的修改)", "Reload (discard my edit)"),
    "valid": ("校验通过: {models} 个模型, {metrics} 个指标", "Valid: {models} models, {metrics} metrics"),
    "issues": ("发现 {n} 个问题:", "{n} issue(s) found:"),
    "saved": ("已保存 {rel}, 新版本 {version}", "Saved {rel} as version {version}"),
    "not_saved": ("未保存。", "Not saved."),
    "stale": ("冲突: 文件已被他人修改", "Conflict: the file was changed by someone else"),
    "history": ("历史版本", "History"),
    "restore": ("恢复", "Restore"),
    "restored": ("已恢复 {rel} 到版本 {version}", "Restored {rel} to version {version}"),
    "current": ("当前", "current"),
    "preview": ("预览", "Preview"),
    "preview_metric": ("指标", "Metric"),
    "preview_dimension": ("按维度(可选)", "By dimension (optional)"),
    "none": ("(无)", "(none)"),
    "preview_help": ("使用编辑器中尚未保存的内容", "Uses the editor's unsaved text"),
    "run_suite": ("运行黄金测试集", "Run the golden suite"),
    "suite_file": ("测试集: {path}", "Suite: {path}"),
    "accuracy": ("准确率", "Accuracy"),
    "suite_summary": ("{passed} 通过, {failed} 失败", "{passed} passed, {failed} failed"),
    "suite_with_edit": ("以编辑器中的内容运行", "Run with the editor's text"),
    "no_feedback": ("暂无反馈。", "No feedback yet."),
    "check_sql": ("检查 SQL(在原始数仓表上写出正确答案)", "Check SQL (the right answer over the raw warehouse tables)"),
    "expect_status": ("或期望状态", "or expected status"),
    "promote": ("加入黄金测试集", "Promote to golden suite"),
    "promoted": ("已加入测试集: {case}", "Promoted as case {case}"),
    "question": ("问题", "Question"),
    "context": ("对话上文", "Earlier in the conversation"),
    "with_context": ("连同对话上文一起加入(追问需要上文)", "Include the earlier turns (a follow-up needs them)"),
    # data
    "data_title": ("数据", "Data"),
    "db_path": ("数仓文件", "Warehouse file"),
    "data_version": ("数据版本", "Data version"),
    "tables": ("表", "Tables"),
    "table": ("表名", "Table"),
    "rows": ("行数", "Rows"),
    "columns": ("列数", "Columns"),
    "kind": ("类型", "Kind"),
    "kind_warehouse": ("数仓表", "warehouse"),
    "kind_model": ("物化客户模型", "materialised model"),
    "refresh": ("刷新客户模型(RFM、CLV、ABC…)", "Refresh customer models (RFM, CLV, ABC…)"),
    "refresh_denied": ("仅管理员和经理可以刷新。", "Only admins and managers can refresh."),
    "refreshed": ("已重建 {models}, 用时 {seconds} 秒", "Rebuilt {models} in {seconds} s"),
}


def t(key: str, lang: str, **fields: object) -> str:
    """The UI string ``key`` in ``lang`` (zh or en) with ``fields`` filled in.

    >>> t("as_of", "en", date="2025-12-31")
    'Data as of: 2025-12-31'
    """
    zh, en = STRINGS[key]
    text = zh if lang == "zh" else en
    return text.format(**fields) if fields else text


#: Example questions for a first visit, known to be answered by the offline planner.
EXAMPLES: dict[str, tuple[str, ...]] = {
    "zh": ("2025年各地区的销售额", "今年每月的活跃客户数", "上季度各获客渠道的获客成本", "各RFM客户分群的客户数"),
    "en": ("revenue by month in 2025", "CAC by acquisition channel last quarter", "buyers by region this year",
           "repeat purchase rate by membership tier"),
}
