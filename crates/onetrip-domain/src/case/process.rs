//! Process definitions: the review steps of an item, grouped into stages that run one after
//! the other, each stage's steps running in parallel (并联审批).

use serde::{Deserialize, Serialize};

use crate::catalog::{ServiceItem, process_stages};

/// Name of the single step of an item whose catalog entry lists no review step.
pub const DEFAULT_REVIEW_STEP: &str = "审查决定";

/// One review step of a case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StepDefinition {
    /// Name, e.g. 审查, 现场勘验.
    pub name: String,
    /// Role that performs the step, when the catalog names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Working days the step is planned to take.
    pub working_days: u16,
}

/// Steps that run at the same time; the stage is done when all of them are.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Stage {
    /// The steps, in catalog order (they may be completed in any order).
    pub steps: Vec<StepDefinition>,
}

/// The review process of a case: stages in order. Intake (受理) is not a step: it is the
/// `accepted` event.
///
/// Store the definition with the case when it is created (or keep the item version it came
/// from): replaying a case needs the definition it was handled under, not today's catalog.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProcessDefinition {
    /// The stages, in order.
    pub stages: Vec<Stage>,
}

impl ProcessDefinition {
    /// The process of an item: its catalog steps without a leading intake step (a name that
    /// starts with 受理), consecutive `parallel` steps grouped into one stage. An item with no
    /// step left gets one stage with the single step [`DEFAULT_REVIEW_STEP`] taking the whole
    /// promised limit.
    pub fn from_item(item: &ServiceItem) -> ProcessDefinition {
        let steps = match item.process.split_first() {
            Some((first, rest)) if first.name.trim_start().starts_with("受理") => rest,
            _ => item.process.as_slice(),
        };
        let stages: Vec<Stage> = process_stages(steps)
            .into_iter()
            .map(|stage| Stage {
                steps: stage
                    .iter()
                    .map(|s| StepDefinition {
                        name: s.name.clone(),
                        role: s.role.clone(),
                        working_days: s.working_days,
                    })
                    .collect(),
            })
            .collect();
        if stages.is_empty() {
            return ProcessDefinition {
                stages: vec![Stage {
                    steps: vec![StepDefinition {
                        name: DEFAULT_REVIEW_STEP.to_owned(),
                        role: None,
                        working_days: item.promised_limit,
                    }],
                }],
            };
        }
        ProcessDefinition { stages }
    }

    /// Working days on the critical path: the sum over stages of the longest step.
    pub fn critical_path_days(&self) -> u32 {
        self.stages
            .iter()
            .map(|stage| {
                stage
                    .steps
                    .iter()
                    .map(|s| u32::from(s.working_days))
                    .max()
                    .unwrap_or(0)
            })
            .sum()
    }

    /// Number of steps over all stages.
    pub fn step_count(&self) -> usize {
        self.stages.iter().map(|s| s.steps.len()).sum()
    }

    /// The step at `(stage, step)`, if the process has it.
    pub fn step(&self, stage: usize, step: usize) -> Option<&StepDefinition> {
        self.stages.get(stage)?.steps.get(step)
    }
}
