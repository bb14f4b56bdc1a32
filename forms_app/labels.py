"""Japanese labels staff and customers see for the queue's codes (one place for all).

Statuses, forms and history actions are fixed codes of the queue; the labels of the form
fields come from the forms themselves (forms_app.review.display).
"""

from __future__ import annotations

STATUS_LABELS: dict[str, str] = {
    "received": "受付済み",
    "in_review": "確認中",
    "accepted": "採用",
    "declined": "見送り",
    "duplicate": "重複",
    "published": "公開済み",
}
FORM_LABELS: dict[str, str] = {
    "feedback": "機能要望・問題報告",
    "docs": "Q&A・マニュアルへの記載要望",
}
ACTION_LABELS: dict[str, str] = {
    "submitted": "受付",
    "status": "ステータス変更",
    "claim": "担当",
    "release": "担当解除",
    "draft_faq": "FAQ下書き作成",
    "purge": "個人データ削除(保存期間)",
    "forget_email": "メールアドレス削除",
}
