//! One enum holds every SCF function status with its name and message.

use scf_handler::FunctionStatus;

#[test]
fn statuses_carry_the_platforms_codes_names_and_messages() {
    let table = [
        (FunctionStatus::Success, 200, "Success", "Success"),
        (
            FunctionStatus::InvalidParameterValue,
            400,
            "InvalidParameterValue",
            "InvalidParameterValue",
        ),
        (
            FunctionStatus::RequestTooLarge,
            406,
            "RequestTooLarge",
            "RequestTooLarge",
        ),
        (
            FunctionStatus::UserCodeException,
            430,
            "UserCodeException",
            "User code exception caught",
        ),
        (
            FunctionStatus::ResourceLimitReached,
            432,
            "ResourceLimitReached",
            "ResourceLimitReached",
        ),
        (
            FunctionStatus::TimeLimitReached,
            433,
            "TimeLimitReached",
            "TimeLimitReached",
        ),
        (
            FunctionStatus::MemoryLimitReached,
            434,
            "MemoryLimitReached",
            "MemoryLimitReached",
        ),
        (
            FunctionStatus::FunctionNotFound,
            435,
            "FunctionNotFound",
            "FunctionNotFound",
        ),
        (
            FunctionStatus::HandlerNotFound,
            437,
            "HandlerNotFound",
            "HandlerNotFound",
        ),
        (
            FunctionStatus::UserProcessExit,
            439,
            "UserProcessExit",
            "User process exit when running",
        ),
        (
            FunctionStatus::QualifierNotFound,
            442,
            "QualifierNotFound",
            "QualifierNotFound",
        ),
        (
            FunctionStatus::InitContainerTimeout,
            450,
            "InitContainerTimeout",
            "InitContainerTimeout",
        ),
    ];
    for (status, code, name, message) in table {
        assert_eq!(status.code(), code);
        assert_eq!(status.name(), name);
        assert_eq!(status.message(), message);
        assert_eq!(FunctionStatus::from_code(code), Some(status));
    }
    assert_eq!(FunctionStatus::from_code(999), None);
    assert_eq!(
        FunctionStatus::TimeLimitReached.to_string(),
        "433 TimeLimitReached"
    );
}

#[test]
fn codes_are_unique_and_only_200_is_success() {
    let mut codes: Vec<u16> = FunctionStatus::ALL.iter().map(|s| s.code()).collect();
    let n = codes.len();
    codes.dedup();
    assert_eq!(codes.len(), n, "ALL is in code order without duplicates");
    for s in FunctionStatus::ALL {
        assert_eq!(s.is_success(), s.code() == 200);
    }
}
