"""Requests that are written down and passed on: meter, new connection, voltage, hazards, theft, complaints."""
from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions import extract
from actions.forms.base import ServiceForm
from actions.forms.record import record, spoken_number
from actions.services import services

CLOSING = "还有别的需要帮您的吗？"


class ReportForm(ServiceForm):
    """Records the collected slots as a work order and reads back the number with what happens next."""
    promise: str = "工作人员会尽快处理并和您联系。"
    urgent_when_dangerous: bool = False

    async def complete(self, dispatcher, tracker, domain):
        slots = self.required(domain, self.form)
        details = {s: tracker.get_slot(s) for s in slots if s != "phone_last4"}
        urgent = self.urgent_when_dangerous or extract.dangerous(str(details.get("details") or ""))
        account = tracker.get_slot("verified_account") or tracker.get_slot("account_no")
        order = record(tracker, self.function_id, details, account_no=account,
                       priority="urgent" if urgent else "normal")
        dispatcher.utter_message(text=f"{self.received()}工单号是{spoken_number(order.number)}。{self.promise}{CLOSING}")
        return [SlotSet("last_order_no", order.number)]

    def received(self) -> str:
        return f"已为您登记{services().catalog.name(self.function_id)}。"


class ValidateMeterIssueForm(ReportForm):
    form = "meter_issue_form"
    function_id = "meter_issue"
    promise = "工作人员会在三个工作日内联系您，上门核查电表。"


class ValidateNewConnectionForm(ReportForm):
    form = "new_connection_form"
    function_id = "new_connection"
    promise = "请准备好身份证和房产证明，客户经理会联系您确认现场勘查时间。"

    def received(self) -> str:
        return "已为您提交用电申请。"


class ValidatePowerQualityForm(ReportForm):
    form = "power_quality_form"
    function_id = "power_quality"
    promise = "我们会安排人员检测电压，一般一到两个工作日内联系您。"


class ValidateSafetyHazardForm(ReportForm):
    form = "safety_hazard_form"
    function_id = "safety_hazard"
    urgent_when_dangerous = True
    opening_min_chars = 6
    promise = "已按紧急情况派单，请您远离危险区域，也提醒路过的人不要靠近。"

    def received(self) -> str:
        return "感谢您的报告，已登记安全隐患。"


class ValidateTheftReportForm(ReportForm):
    form = "theft_report_form"
    function_id = "theft_report"
    opening_min_chars = 10
    promise = "我们会安排核查，您的个人信息会严格保密。"

    def received(self) -> str:
        return "感谢您的举报，已经记录。"


class ValidateComplaintForm(ReportForm):
    form = "complaint_form"
    function_id = "complaint"
    opening_min_chars = 10
    promise = "专人会在一个工作日内联系您，处理结果也会告诉您。"

    def received(self) -> str:
        return "非常抱歉给您带来不好的体验，您的投诉已经受理。"


class ValidateSuggestionForm(ReportForm):
    form = "suggestion_form"
    function_id = "suggestion"
    opening_min_chars = 10
    promise = "我们会认真转达给相关部门。"

    def received(self) -> str:
        return "谢谢您的宝贵意见，已经记录下来了。"
