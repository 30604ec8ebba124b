//! Demo applications (`onetrip demo`): applications and cases in every state, from a draft to
//! concluded, so that every queue, timeline and report has something real to show. The seeds'
//! story leads: 陈志明 applied for the birth bundle for his son 陈思远 born on 2026-11-10; the
//! birth medical certificate is issued and the dependent members have started.
//!
//! Everything is made through the same use cases as real traffic (submission, case actions,
//! the deadline scanner), at dates in the past relative to `now`, so that clocks and warnings
//! are real: one case is overdue (red) with a supervision order, one is near its deadline
//! (yellow), one waits for a correction, one was refused, one withdrawn, one concluded; an
//! item with a form of its own (a medical reimbursement) waits for intake.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use onetrip_domain::case::{CorrectionItem, Outcome};
use onetrip_domain::catalog::DeliveryMethod;
use onetrip_domain::form::FormValues;
use onetrip_domain::identifiers::DivisionCode;
use onetrip_domain::identity::{AccountId, RoleGrant, StaffRole};
use serde_json::{Value, json};

use crate::cases::{
    ApplicantFacts, ApplicationInput, ApplicationTarget, ApplyChannel, CaseActor, CaseCommand,
    FileRef, WindowIntake,
};
use crate::resolution::Applicant;
use crate::{App, AppError, Result, china_today};

/// 陈志明, the demo citizen.
const CHEN: &str = "330102198503140138";
/// 社会保障卡申领 (杭州市人力资源和社会保障局).
const SSC: &str = "113301000354023845200030002000";
const HRSS_CITY: &str = "113301000354023845";
const HEALTH_CITY: &str = "11330100000897962X";
const XIHU_CIVIL_AFFAIRS: &str = "11330106086703320Q";
/// 医疗费用手工（零星）报销 (杭州市医疗保障局): an item with its own form, in no bundle.
const MEDICAL_REIMBURSEMENT: &str = "11330100067843715T050090003000";

fn at(day: Date) -> Result<Timestamp> {
    day.at(9, 30, 0, 0)
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .map(|z| z.timestamp())
        .map_err(|e| AppError::Internal(e.to_string()))
}

fn staff(id: &str, role: StaffRole, division: &str, department: Option<&str>) -> Result<CaseActor> {
    Ok(CaseActor::Staff {
        id: AccountId::new(id),
        roles: vec![RoleGrant {
            role,
            division: DivisionCode::parse(division).map_err(|e| AppError::refused(&e))?,
            department: department.map(str::to_string),
        }],
    })
}

fn chen() -> ApplicantFacts {
    ApplicantFacts {
        applicant: Applicant::Person(CHEN.into()),
        name: "陈志明".into(),
        account: None,
    }
}

/// Chen's ID photo for the social-security card (not in the demo's shared data for him).
const PHOTO: &[u8] = include_bytes!("../../../data/demo/photo.png");

impl App {
    /// Fills the demo with applications in every state when there are none (see the module
    /// documentation). Returns how many applications it made.
    pub async fn load_demo_cases_if_empty(&self, now: Timestamp) -> Result<usize> {
        if self.db.application_count().await? > 0 || self.db.bundle("ZJ-BIRTH").await?.is_none() {
            return Ok(0);
        }
        let today = china_today(now);
        let calendar = self.calendar();
        // Working days back from today (the deadline calendar decides what a working day is).
        let back = |n: i64| -> Result<Date> {
            let mut day = today;
            let mut left = n;
            while left > 0 {
                day = day
                    .checked_sub(1.day())
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                if calendar.is_working_day(day).working {
                    left -= 1;
                }
            }
            Ok(day)
        };
        let clerk = staff("demo-clerk-xihu", StaffRole::WindowClerk, "330106", None)?;
        let hrss_intake = staff(
            "demo-hrss-intake",
            StaffRole::DepartmentOfficer,
            "330100",
            Some(HRSS_CITY),
        )?;
        let hrss_officer = staff(
            "demo-hrss-officer",
            StaffRole::DepartmentHead,
            "330100",
            Some(HRSS_CITY),
        )?;
        let health_officer = staff(
            "demo-health-officer",
            StaffRole::DepartmentHead,
            "330100",
            Some(HEALTH_CITY),
        )?;
        let supervisor = staff("demo-supervisor-hz", StaffRole::Supervisor, "330100", None)?;
        let mut made = 0;

        // 1. The seeds' story: the birth bundle, submitted on the phone two working days ago;
        //    the birth medical certificate was issued the next day and the dependents started.
        let day = back(2)?;
        let answers: FormValues = [
            ("parents_married", "yes"),
            ("medical_insurance", "yes"),
            ("social_security_card", "no"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::from(v)))
        .collect();
        let prepared = self
            .prepare_bundle("ZJ-BIRTH", &chen(), &answers, at(day)?)
            .await?;
        let mut form = prepared.prefill;
        for (k, v) in [
            (
                "birth_place",
                json!({"division_code": "330106", "detail": "浙江大学医学院附属妇产科医院"}),
            ),
            ("register_with", json!("father")),
            ("relation_to_head", json!("子")),
            ("premium_payment", json!("online")),
            ("applicant_relation", json!("father")),
            ("applicant_phone", json!("13800138000")),
            ("delivery_method", json!("express")),
            (
                "delivery_address",
                json!({"division_code": "330106", "detail": "文三路199号3幢1单元502室"}),
            ),
        ] {
            form.entry(k.to_string()).or_insert(v);
        }
        let birth = self
            .submit_application(
                &chen(),
                None,
                &ApplicationInput {
                    target: ApplicationTarget::Bundle {
                        code: "ZJ-BIRTH".into(),
                    },
                    answers,
                    form,
                    uploads: BTreeMap::new(),
                },
                ApplyChannel::Mobile,
                None,
                None,
                at(day)?,
            )
            .await?;
        made += 1;
        if let Some(case) = birth.cases.iter().find(|c| c.member == "birth_certificate") {
            let day = back(1)?;
            let health_intake = staff(
                "demo-health-intake",
                StaffRole::DepartmentOfficer,
                "330100",
                Some(HEALTH_CITY),
            )?;
            self.act_on_case(
                &health_intake,
                &case.number,
                CaseCommand::Accept,
                None,
                at(day)?,
            )
            .await?;
            for command in [
                CaseCommand::CompleteStep {
                    stage: 0,
                    step: 0,
                    opinion: "助产机构分娩信息核验一致".into(),
                },
                CaseCommand::Decide {
                    outcome: Outcome::Approved,
                },
                CaseCommand::IssueResult {
                    delivery: DeliveryMethod::Electronic,
                },
            ] {
                self.act_on_case(&health_officer, &case.number, command, None, at(day)?)
                    .await?;
            }
        }

        // Single-item applications for the social-security card in every other state.
        let ssc = |uploads: BTreeMap<String, FileRef>| ApplicationInput {
            target: ApplicationTarget::Item {
                code: SSC.into(),
                situation: Some("S01".into()),
            },
            answers: FormValues::new(),
            form: FormValues::new(),
            uploads,
        };
        // Chen's photo, uploaded once (the demo applies for him without an account, so the
        // platform itself is the uploader).
        let photo = self
            .store_upload(
                "system".into(),
                "证件照.png".into(),
                "image/png",
                bytes::Bytes::from_static(PHOTO),
                at(back(8)?)?,
            )
            .await?;
        let photo: BTreeMap<String, FileRef> =
            [(format!("{SSC}.M03"), crate::uploads::file_ref(&photo))].into();
        let submit = |day: Date| {
            let input = ssc(photo.clone());
            async move {
                let s = self
                    .submit_application(
                        &chen(),
                        None,
                        &input,
                        ApplyChannel::Web,
                        None,
                        None,
                        at(day)?,
                    )
                    .await?;
                Ok::<String, AppError>(s.cases[0].number.clone())
            }
        };
        // 2. Overdue (red), with a supervision order: accepted 7 working days ago (limit 5).
        let red = submit(back(7)?).await?;
        self.act_on_case(&hrss_intake, &red, CaseCommand::Accept, None, at(back(7)?)?)
            .await?;
        // 3. Near its deadline (yellow): accepted 4 working days ago.
        let yellow = submit(back(4)?).await?;
        self.act_on_case(
            &hrss_intake,
            &yellow,
            CaseCommand::Accept,
            None,
            at(back(4)?)?,
        )
        .await?;
        // 4. Waiting for a correction (clock stopped).
        let correction = submit(back(3)?).await?;
        self.act_on_case(
            &hrss_intake,
            &correction,
            CaseCommand::Accept,
            None,
            at(back(3)?)?,
        )
        .await?;
        self.act_on_case(
            &hrss_officer,
            &correction,
            CaseCommand::RequestCorrection {
                items: vec![CorrectionItem {
                    subject: "M03".into(),
                    reason: "证件照片背景不是白色，请按社会保障卡照片规格重新上传".into(),
                }],
            },
            None,
            at(back(2)?)?,
        )
        .await?;
        // 5. Refused at intake; 6. withdrawn by the applicant; 7. concluded and delivered.
        let refused = submit(back(5)?).await?;
        self.act_on_case(
            &hrss_intake,
            &refused,
            CaseCommand::Refuse {
                reason: "申请人已持有有效的社会保障卡，无须重复申领".into(),
            },
            None,
            at(back(5)?)?,
        )
        .await?;
        let withdrawn = submit(back(6)?).await?;
        self.act_on_case(
            &CaseActor::System,
            &withdrawn,
            CaseCommand::Withdraw {
                reason: "申请人误选了办理情形，撤回后重新申请".into(),
            },
            None,
            at(back(6)?)?,
        )
        .await?;
        let done = submit(back(9)?).await?;
        self.act_on_case(
            &hrss_intake,
            &done,
            CaseCommand::Accept,
            None,
            at(back(9)?)?,
        )
        .await?;
        for command in [
            CaseCommand::CompleteStep {
                stage: 0,
                step: 0,
                opinion: "参保信息核验一致，同意制卡".into(),
            },
            CaseCommand::Decide {
                outcome: Outcome::Approved,
            },
            CaseCommand::IssueResult {
                delivery: DeliveryMethod::Express,
            },
        ] {
            self.act_on_case(&hrss_officer, &done, command, None, at(back(8)?)?)
                .await?;
        }
        // 8. A walk-in applicant at the Xihu general window, taken in today: the photo handed
        // in on paper.
        let on_paper: BTreeMap<String, FileRef> = [(
            format!("{SSC}.M03"),
            FileRef {
                id: format!("{}demo:1", crate::uploads::RECEIVED_ON_PAPER),
                name: "证件照".into(),
                media_type: None,
            },
        )]
        .into();
        let walk_in = self
            .submit_application(
                &chen(),
                None,
                &ssc(on_paper),
                ApplyChannel::Window,
                Some(&WindowIntake {
                    clerk: clerk.clone(),
                    signature: "demo-signature-pad-0001".into(),
                    agent: None,
                }),
                None,
                now,
            )
            .await?;
        self.act_on_case(
            &clerk,
            &walk_in.cases[0].number,
            CaseCommand::Accept,
            None,
            now,
        )
        .await?;
        made += 7;
        // 9. A draft, saved and not yet submitted.
        self.save_draft(
            &chen(),
            None,
            &ApplicationInput {
                target: ApplicationTarget::Bundle {
                    code: "ZJ-BIRTH".into(),
                },
                answers: FormValues::new(),
                form: [("baby_name".to_string(), Value::from("陈思远"))]
                    .into_iter()
                    .collect(),
                uploads: BTreeMap::new(),
            },
            ApplyChannel::Web,
            now,
        )
        .await?;
        made += 1;

        // 10. An item in no bundle, with a form of its own: Chen's emergency treatment,
        //     reimbursed by hand, submitted on the web yesterday; the form prefilled from his
        //     account and the e-receipt, the bill, the record and the debit card uploaded.
        let day = back(1)?;
        let prepared = self
            .prepare_item(MEDICAL_REIMBURSEMENT, &chen(), at(day)?)
            .await?;
        let mut form = prepared.prefill;
        for (k, v) in [
            ("visit_kind", json!("emergency")),
            ("inpatient", json!("outpatient")),
            ("bank", json!("icbc")),
            ("account_number", json!("6222021202041234567")),
        ] {
            form.insert(k.to_string(), v);
        }
        // The demo applies without his account, so the account's phone is typed in.
        form.entry("phone".to_string())
            .or_insert_with(|| json!("13800138000"));
        let mut uploads = BTreeMap::new();
        for (material, name) in [
            ("M03", "费用明细清单.pdf"),
            ("M04", "门诊病历.pdf"),
            ("M05", "工商银行借记卡.pdf"),
        ] {
            let content = format!("%PDF-1.4\n% {name}\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n");
            let file = self
                .store_upload(
                    "system".into(),
                    name.into(),
                    "application/pdf",
                    bytes::Bytes::from(content.into_bytes()),
                    at(day)?,
                )
                .await?;
            uploads.insert(
                format!("{MEDICAL_REIMBURSEMENT}.{material}"),
                crate::uploads::file_ref(&file),
            );
        }
        self.submit_application(
            &chen(),
            None,
            &ApplicationInput {
                target: ApplicationTarget::Item {
                    code: MEDICAL_REIMBURSEMENT.into(),
                    situation: None,
                },
                answers: FormValues::new(),
                form,
                uploads,
            },
            ApplyChannel::Web,
            None,
            None,
            at(day)?,
        )
        .await?;
        made += 1;

        // Warnings as of now, and the supervisor's order on the overdue case.
        self.scan_deadlines("demo", now).await?;
        self.issue_supervision_order(
            &supervisor,
            &red,
            "该办件已超过承诺时限，请于两个工作日内办结并说明原因",
            today
                .checked_add(2.days())
                .map_err(|e| AppError::Internal(e.to_string()))?,
            None,
            now,
        )
        .await?;
        Ok(made)
    }
}

/// A member of staff of the demo, to try the workbenches with.
#[derive(Debug, Clone)]
pub struct DemoStaff {
    /// Sign-in name.
    pub username: &'static str,
    /// What they do, in English (for the banner).
    pub role: &'static str,
    /// The initial password, when the account was made in this run.
    pub password: Option<secrecy::SecretString>,
}

impl App {
    /// Makes the demo's staff accounts that are missing: a window clerk of Xihu district, an
    /// officer of the city's human resources and social security bureau (which receives
    /// birth-bundle cases), an officer of the city health commission, and a supervisor of the
    /// city. Returns every account, with the initial password of those made now. Administrator
    /// roles are left out on purpose: they need an authenticator (`onetrip staff create`).
    pub async fn load_demo_staff(&self, now: Timestamp) -> Result<Vec<DemoStaff>> {
        // (sign-in name, role in English, name, role, division, department worked in, whether
        // the role is held in that department).
        let accounts = [
            (
                "demo.clerk",
                "window clerk, Xihu district",
                "西湖区综合窗口",
                StaffRole::WindowClerk,
                "330106",
                XIHU_CIVIL_AFFAIRS,
                false,
            ),
            (
                "demo.hrss",
                "department officer, city HRSS bureau",
                "市人社局经办人",
                StaffRole::DepartmentOfficer,
                "330100",
                HRSS_CITY,
                true,
            ),
            (
                "demo.health",
                "department officer, city health commission",
                "市卫健委经办人",
                StaffRole::DepartmentOfficer,
                "330100",
                HEALTH_CITY,
                true,
            ),
            (
                "demo.supervisor",
                "supervisor, Hangzhou",
                "杭州市督办人员",
                StaffRole::Supervisor,
                "330100",
                HRSS_CITY,
                false,
            ),
        ];
        let mut out = Vec::new();
        for (username, role_en, name, role, division, department, held_there) in accounts {
            let password = if self.db.staff_by_username(username).await?.is_some() {
                None
            } else {
                let created = self
                    .create_staff(
                        &crate::staff::Granter::Bootstrap,
                        crate::staff::NewStaffInput {
                            username: username.into(),
                            name: name.into(),
                            department_code: department.into(),
                            division_code: division.into(),
                            roles: vec![RoleGrant {
                                role,
                                division: DivisionCode::parse(division)
                                    .map_err(|e| AppError::Internal(e.to_string()))?,
                                department: held_there.then(|| department.to_string()),
                            }],
                        },
                        now,
                    )
                    .await?;
                Some(created.initial_password)
            };
            out.push(DemoStaff {
                username,
                role: role_en,
                password,
            });
        }
        Ok(out)
    }
}
