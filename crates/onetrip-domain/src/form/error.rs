//! [`FieldError`]: one problem with one value, and the labels and messages it is built from.

use serde::Serialize;

use super::value::Part;
use super::{Field, FieldKind, format_yuan};
use crate::Localized;
use crate::identifiers::{CreditCodeError, DivisionCodeError, ResidentIdError};

/// A problem with one value of a form: where it is, a stable code and messages in Chinese and
/// English that name the field by its label.
///
/// Codes: `form_required`, `form_unknown_field`, `form_wrong_type`, `form_text_too_long`,
/// `form_text_invalid_character`, `form_number_format`, `form_number_too_small`,
/// `form_number_too_large`, `form_money_format`, `form_money_too_small`, `form_money_too_large`,
/// `form_date_format`, `form_date_invalid`, `form_date_after_today`, `form_date_before_today`,
/// `form_choice_unknown`, `form_choice_too_few`, `form_choice_too_many`, `form_phone_format`,
/// `form_file_type`, `form_file_too_large`, `form_group_too_few`, `form_group_too_many`, and the
/// codes of [`ResidentIdError`], [`CreditCodeError`] and [`DivisionCodeError`] for those values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{path}: {message_en}")]
pub struct FieldError {
    /// Path of the value: `baby_name`, `family_members[1].resident_id` (0-based index),
    /// `birth_place.detail`.
    pub path: String,
    /// Stable code.
    pub code: &'static str,
    /// Message in Simplified Chinese.
    pub message_zh: String,
    /// Message in English.
    pub message_en: String,
}

impl FieldError {
    pub(super) fn new(path: String, label: &Label, problem: &Problem) -> Self {
        FieldError {
            path,
            code: problem.code(),
            message_zh: problem.message_zh(&label.zh),
            message_en: problem.message_en(&label.en),
        }
    }
}

impl Localized for FieldError {
    fn code(&self) -> &'static str {
        self.code
    }

    fn message_zh(&self) -> String {
        self.message_zh.clone()
    }

    fn message_en(&self) -> String {
        self.message_en.clone()
    }
}

/// How a value is named in messages: `zh` is already quoted (“出生日期”), `en` is bare.
#[derive(Clone, Debug)]
pub(super) struct Label {
    pub zh: String,
    pub en: String,
}

impl Label {
    /// The label of a field.
    pub fn of(field: &Field) -> Self {
        Label {
            zh: format!("“{}”", field.label),
            en: field.english_label().to_owned(),
        }
    }

    /// A key that the form does not know.
    pub fn key(key: &str) -> Self {
        Label {
            zh: format!("“{key}”"),
            en: format!("\"{key}\""),
        }
    }

    /// Item `index` (0-based) of the group labelled `self`.
    pub fn item(&self, index: usize) -> Self {
        let n = index.saturating_add(1);
        Label {
            zh: format!("{}第{n}项", self.zh),
            en: format!("item {n} of {}", self.en),
        }
    }

    /// A child field of the item labelled `self`.
    pub fn child(&self, child: &Field) -> Self {
        Label {
            zh: format!("{}的“{}”", self.zh, child.label),
            en: format!("{} ({})", child.english_label(), self.en),
        }
    }

    /// A part of a composite value (address, file).
    pub fn part(&self, part: Option<&Part>) -> Self {
        match part {
            None => self.clone(),
            Some(Part::DivisionCode) => Label {
                zh: format!("{}的行政区划", self.zh),
                en: format!("{} (division)", self.en),
            },
            Some(Part::Detail) => Label {
                zh: format!("{}的详细地址", self.zh),
                en: format!("{} (street address)", self.en),
            },
            Some(Part::Key(k)) => Label {
                zh: format!("{}的“{k}”", self.zh),
                en: format!("\"{k}\" of {}", self.en),
            },
        }
    }
}

/// The verb of a "fill this in" message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verb {
    /// 填写 / Enter.
    Enter,
    /// 选择 / Choose.
    Choose,
    /// 上传 / Upload.
    Upload,
    /// 添加 / Add.
    Add,
}

impl Verb {
    /// The verb that fits a kind of field.
    pub fn for_kind(kind: &FieldKind) -> Self {
        match kind {
            FieldKind::Choice { .. } | FieldKind::MultiChoice { .. } => Verb::Choose,
            FieldKind::File { .. } => Verb::Upload,
            FieldKind::Group { .. } => Verb::Add,
            _ => Verb::Enter,
        }
    }
}

/// What a value should have been.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Expected {
    Text,
    Integer,
    Money,
    Date,
    Choice,
    ChoiceList,
    Address,
    File,
    List,
    Item,
}

impl Expected {
    fn zh(self) -> &'static str {
        match self {
            Expected::Text => "文字",
            Expected::Integer => "整数",
            Expected::Money => "金额（以元为单位的文字，如“12.30”；或以分为单位的整数）",
            Expected::Date => "日期（如“2024-01-05”）",
            Expected::Choice => "所列选项之一",
            Expected::ChoiceList => "所列选项的列表",
            Expected::Address => "地址（行政区划和详细地址）",
            Expected::File => "已上传的文件（编号、文件名、类型和大小）",
            Expected::List => "若干项的列表",
            Expected::Item => "一组填写项",
        }
    }

    fn en(self) -> &'static str {
        match self {
            Expected::Text => "text",
            Expected::Integer => "a whole number",
            Expected::Money => "an amount (text in yuan such as \"12.30\", or an integer in fen)",
            Expected::Date => "a date (such as \"2024-01-05\")",
            Expected::Choice => "one of the options",
            Expected::ChoiceList => "a list of the options",
            Expected::Address => "an address (division and street address)",
            Expected::File => "an uploaded file (id, name, media type and size)",
            Expected::List => "a list of items",
            Expected::Item => "a set of fields",
        }
    }
}

/// One problem, before it is placed (path) and named (label).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Problem {
    Required(Verb),
    UnknownField,
    WrongType(Expected),
    TextTooLong { max: u64, len: u64 },
    TextInvalidCharacter { multiline: bool },
    NumberFormat,
    NumberTooSmall(i64),
    NumberTooLarge(i64),
    MoneyFormat,
    MoneyTooSmall(i64),
    MoneyTooLarge(i64),
    DateFormat,
    DateInvalid,
    DateAfterToday(String),
    DateBeforeToday(String),
    ChoiceUnknown { zh: String, en: String },
    ChoiceTooFew(u32),
    ChoiceTooMany(u32),
    ResidentId(ResidentIdError),
    CreditCode(CreditCodeError),
    Division(DivisionCodeError),
    Phone { full_width: bool },
    FileType { media_type: String, accept: String },
    FileTooLarge { max: u64 },
    GroupTooFew(u32),
    GroupTooMany(u32),
}

/// A size in bytes for people: `10 MB`, `512 KB`, `300 bytes`.
fn human_bytes(n: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * 1024;
    if n >= MB && n.is_multiple_of(MB) {
        format!("{} MB", n / MB)
    } else if n >= MB {
        format!("{:.1} MB", n as f64 / MB as f64)
    } else if n >= KB && n.is_multiple_of(KB) {
        format!("{} KB", n / KB)
    } else if n >= KB {
        format!("{:.1} KB", n as f64 / KB as f64)
    } else {
        format!("{n} bytes")
    }
}

impl Problem {
    pub fn code(&self) -> &'static str {
        match self {
            Problem::Required(_) => "form_required",
            Problem::UnknownField => "form_unknown_field",
            Problem::WrongType(_) => "form_wrong_type",
            Problem::TextTooLong { .. } => "form_text_too_long",
            Problem::TextInvalidCharacter { .. } => "form_text_invalid_character",
            Problem::NumberFormat => "form_number_format",
            Problem::NumberTooSmall(_) => "form_number_too_small",
            Problem::NumberTooLarge(_) => "form_number_too_large",
            Problem::MoneyFormat => "form_money_format",
            Problem::MoneyTooSmall(_) => "form_money_too_small",
            Problem::MoneyTooLarge(_) => "form_money_too_large",
            Problem::DateFormat => "form_date_format",
            Problem::DateInvalid => "form_date_invalid",
            Problem::DateAfterToday(_) => "form_date_after_today",
            Problem::DateBeforeToday(_) => "form_date_before_today",
            Problem::ChoiceUnknown { .. } => "form_choice_unknown",
            Problem::ChoiceTooFew(_) => "form_choice_too_few",
            Problem::ChoiceTooMany(_) => "form_choice_too_many",
            Problem::ResidentId(e) => e.code(),
            Problem::CreditCode(e) => e.code(),
            Problem::Division(e) => e.code(),
            Problem::Phone { .. } => "form_phone_format",
            Problem::FileType { .. } => "form_file_type",
            Problem::FileTooLarge { .. } => "form_file_too_large",
            Problem::GroupTooFew(_) => "form_group_too_few",
            Problem::GroupTooMany(_) => "form_group_too_many",
        }
    }

    /// The Chinese message; `l` is the quoted label.
    pub fn message_zh(&self, l: &str) -> String {
        match self {
            Problem::Required(Verb::Enter) => format!("请填写{l}"),
            Problem::Required(Verb::Choose) => format!("请选择{l}"),
            Problem::Required(Verb::Upload) => format!("请上传{l}"),
            Problem::Required(Verb::Add) => format!("请添加{l}"),
            Problem::UnknownField => format!("{l}不是本表单的填写项：请删除该项后再提交"),
            Problem::WrongType(e) => format!("{l}应为{}", e.zh()),
            Problem::TextTooLong { max, len } => {
                format!("{l}最多{max}个字，现有{len}个字：请删减")
            }
            Problem::TextInvalidCharacter { multiline: true } => {
                format!("{l}含有不可见的控制字符：请删除后重新输入")
            }
            Problem::TextInvalidCharacter { multiline: false } => {
                format!("{l}含有换行或不可见的控制字符：请写在一行内")
            }
            Problem::NumberFormat => {
                format!("{l}应为整数：只能使用半角数字0–9，负数以“-”开头")
            }
            Problem::NumberTooSmall(min) => format!("{l}不能小于{min}"),
            Problem::NumberTooLarge(max) => format!("{l}不能大于{max}"),
            Problem::MoneyFormat => format!(
                "{l}的金额格式不正确：请以元为单位填写，最多两位小数，不带货币符号和千位分隔符，\
                 例如 12.30"
            ),
            Problem::MoneyTooSmall(min) => format!("{l}不能少于{}元", format_yuan(*min)),
            Problem::MoneyTooLarge(max) => format!("{l}不能超过{}元", format_yuan(*max)),
            Problem::DateFormat => {
                format!("{l}的日期格式不正确：请按“年-月-日”填写，例如 2024-01-05")
            }
            Problem::DateInvalid => format!("{l}不是真实存在的日期：请核对年、月、日"),
            Problem::DateAfterToday(today) => format!("{l}不能晚于今天（{today}）"),
            Problem::DateBeforeToday(today) => format!("{l}不能早于今天（{today}）"),
            Problem::ChoiceUnknown { zh, .. } => {
                format!("{l}的选项无效：请从以下选项中选择：{zh}")
            }
            Problem::ChoiceTooFew(min) => format!("{l}至少要选{min}项"),
            Problem::ChoiceTooMany(max) => format!("{l}最多只能选{max}项"),
            Problem::ResidentId(e) => format!("{l}：{}", e.message_zh()),
            Problem::CreditCode(e) => format!("{l}：{}", e.message_zh()),
            Problem::Division(e) => format!("{l}：{}", e.message_zh()),
            Problem::Phone { full_width } => format!(
                "{l}不是有效的手机号码：应为以13–19开头的11位数字{}",
                if *full_width {
                    "（含有全角字符，请切换到半角输入）"
                } else {
                    ""
                }
            ),
            Problem::FileType { media_type, accept } => {
                format!("{l}的文件类型（{media_type}）不符合要求：请上传 {accept} 类型的文件")
            }
            Problem::FileTooLarge { max } => {
                format!("{l}的文件过大：不能超过 {}", human_bytes(*max))
            }
            Problem::GroupTooFew(min) => format!("{l}至少需要填写{min}项"),
            Problem::GroupTooMany(max) => format!("{l}最多只能填写{max}项"),
        }
    }

    /// The English message; `l` is the label.
    pub fn message_en(&self, l: &str) -> String {
        match self {
            Problem::Required(Verb::Enter) => format!("Enter {l}"),
            Problem::Required(Verb::Choose) => format!("Choose {l}"),
            Problem::Required(Verb::Upload) => format!("Upload {l}"),
            Problem::Required(Verb::Add) => format!("Add {l}"),
            Problem::UnknownField => {
                format!("{l} is not a field of this form: remove it and submit again")
            }
            Problem::WrongType(e) => format!("{l} must be {}", e.en()),
            Problem::TextTooLong { max, len } => {
                format!("{l} can have at most {max} characters, it has {len}: shorten it")
            }
            Problem::TextInvalidCharacter { multiline: true } => {
                format!("{l} contains invisible control characters: remove them")
            }
            Problem::TextInvalidCharacter { multiline: false } => {
                format!(
                    "{l} contains a line break or invisible control characters: keep it on one line"
                )
            }
            Problem::NumberFormat => format!(
                "{l} must be a whole number: use the digits 0–9 (half-width), with a leading \"-\" \
                 for a negative number"
            ),
            Problem::NumberTooSmall(min) => format!("{l} must be at least {min}"),
            Problem::NumberTooLarge(max) => format!("{l} must be at most {max}"),
            Problem::MoneyFormat => format!(
                "{l} is not a valid amount: enter it in yuan with at most two decimals, without a \
                 currency sign or thousands separators, such as 12.30"
            ),
            Problem::MoneyTooSmall(min) => {
                format!("{l} must be at least CNY {}", format_yuan(*min))
            }
            Problem::MoneyTooLarge(max) => {
                format!("{l} must be at most CNY {}", format_yuan(*max))
            }
            Problem::DateFormat => {
                format!("{l} is not a valid date: write it as year-month-day, such as 2024-01-05")
            }
            Problem::DateInvalid => {
                format!("{l} is not a real calendar date: check the year, month and day")
            }
            Problem::DateAfterToday(today) => format!("{l} cannot be after today ({today})"),
            Problem::DateBeforeToday(today) => format!("{l} cannot be before today ({today})"),
            Problem::ChoiceUnknown { en, .. } => {
                format!("{l}: not one of the options; choose from: {en}")
            }
            Problem::ChoiceTooFew(min) => format!("Choose at least {min} options for {l}"),
            Problem::ChoiceTooMany(max) => format!("Choose at most {max} options for {l}"),
            Problem::ResidentId(e) => format!("{l}: {}", e.message_en()),
            Problem::CreditCode(e) => format!("{l}: {}", e.message_en()),
            Problem::Division(e) => format!("{l}: {}", e.message_en()),
            Problem::Phone { full_width } => format!(
                "{l} is not a valid mobile number: it has 11 digits and starts with 13 to 19{}",
                if *full_width {
                    " (it contains full-width characters: switch to half-width input)"
                } else {
                    ""
                }
            ),
            Problem::FileType { media_type, accept } => format!(
                "{l}: files of type {media_type} are not accepted; upload a file of type {accept}"
            ),
            Problem::FileTooLarge { max } => {
                format!("{l} is too large: the limit is {}", human_bytes(*max))
            }
            Problem::GroupTooFew(min) => format!("{l} needs at least {min} items"),
            Problem::GroupTooMany(max) => format!("{l} can have at most {max} items"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(10 * 1024 * 1024), "10 MB");
        assert_eq!(human_bytes(1536 * 1024), "1.5 MB");
        assert_eq!(human_bytes(512 * 1024), "512 KB");
        assert_eq!(human_bytes(1500), "1.5 KB");
        assert_eq!(human_bytes(300), "300 bytes");
    }
}
