//! The small public types the agent configures and logs with.

use std::str::FromStr;

use cubby_boards::{BankStatus, BoardError, Family, LockAddress, LockStatus};

#[test]
fn family_names_round_trip() {
    for family in Family::ALL {
        assert_eq!(Family::from_str(&family.to_string()).unwrap(), family);
    }
    assert_eq!("kerong".parse::<Family>().unwrap(), Family::Kerong);
    assert_eq!("Xor8a".parse::<Family>().unwrap(), Family::Xor8a);
    assert!(matches!(
        "wkly".parse::<Family>(),
        Err(BoardError::UnknownFamily(_))
    ));
    assert_eq!(Family::Kerong.codec().family(), Family::Kerong);
    assert_eq!(Family::Xor8a.codec().family(), Family::Xor8a);
}

#[test]
fn lock_addresses_order_by_board_then_lock_and_parse() {
    let a = LockAddress::new(0, 16);
    let b = LockAddress::new(1, 1);
    assert!(a < b);
    assert_eq!(b.to_string(), "1:1");
    assert_eq!(
        "1:16".parse::<LockAddress>().unwrap(),
        LockAddress { board: 1, lock: 16 }
    );
    assert!(matches!(
        "1-16".parse::<LockAddress>(),
        Err(BoardError::InvalidAddress(_))
    ));
    assert!("1:300".parse::<LockAddress>().is_err());
}

#[test]
fn bank_status_iterates_in_address_order() {
    let mut bank = BankStatus::default();
    assert!(bank.is_empty());
    let s = LockStatus {
        locked: true,
        item_present: None,
    };
    for (board, lock) in [(1, 2), (0, 9), (1, 1)] {
        bank.locks.insert(LockAddress::new(board, lock), s);
    }
    let order: Vec<_> = bank.locks.keys().map(ToString::to_string).collect();
    assert_eq!(order, ["0:9", "1:1", "1:2"]);
    assert_eq!(bank.get(LockAddress::new(0, 9)), Some(s));
    assert_eq!(bank.get(LockAddress::new(0, 1)), None);
}
