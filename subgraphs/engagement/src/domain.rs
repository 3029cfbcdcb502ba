//! Engagement's rules: task statuses and their transitions.

/// Where a task stands. DONE and CANCELLED are final.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum TaskStatus {
    Todo,
    InProgress,
    Done,
    Cancelled,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Todo => "TODO",
            TaskStatus::InProgress => "IN_PROGRESS",
            TaskStatus::Done => "DONE",
            TaskStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "TODO" => Some(TaskStatus::Todo),
            "IN_PROGRESS" => Some(TaskStatus::InProgress),
            "DONE" => Some(TaskStatus::Done),
            "CANCELLED" => Some(TaskStatus::Cancelled),
            _ => None,
        }
    }

    /// Whether a task may go from `self` to `to`: open tasks move freely between TODO and
    /// IN_PROGRESS and may end DONE or CANCELLED; an ended task stays ended.
    pub fn can_become(self, to: TaskStatus) -> bool {
        use TaskStatus::*;
        matches!(
            (self, to),
            (Todo, InProgress)
                | (Todo, Done)
                | (Todo, Cancelled)
                | (InProgress, Todo)
                | (InProgress, Done)
                | (InProgress, Cancelled)
        )
    }

    pub fn is_open(self) -> bool {
        matches!(self, TaskStatus::Todo | TaskStatus::InProgress)
    }
}

#[cfg(test)]
mod tests {
    use super::TaskStatus::{self, *};

    #[test]
    fn ended_tasks_stay_ended_and_no_status_becomes_itself() {
        let all = [Todo, InProgress, Done, Cancelled];
        for from in all {
            for to in all {
                let allowed = from.can_become(to);
                if !from.is_open() || from == to {
                    assert!(!allowed, "{from:?} -> {to:?}");
                }
            }
        }
        assert!(Todo.can_become(Done) && InProgress.can_become(Todo));
        for status in all {
            assert_eq!(TaskStatus::parse(status.as_str()), Some(status));
        }
    }
}
