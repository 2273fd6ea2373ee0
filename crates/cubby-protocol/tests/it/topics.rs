use cubby_protocol::topics::*;

#[test]
fn topics_round_trip_and_devices_are_confined_to_their_own_subtree() {
    for c in ALL_CHANNELS {
        let t = topic("dev-1", *c);
        assert_eq!(parse(&t), Some(("dev-1", *c)));
    }
    assert_eq!(topic("dev-1", Channel::Cmd), "cubby/v1/dev/dev-1/cmd");
    assert!(device_may_publish("dev-1", "cubby/v1/dev/dev-1/journal"));
    assert!(!device_may_publish("dev-1", "cubby/v1/dev/dev-2/journal"));
    assert!(
        !device_may_publish("dev-1", "cubby/v1/dev/dev-1/cmd"),
        "a device never sends itself commands"
    );
    assert!(!device_may_publish("dev-1", "cubby/v1/dev/dev-1/cache"));
    assert!(device_may_subscribe("dev-1", "cubby/v1/dev/dev-1/cmd"));
    assert!(!device_may_subscribe("dev-1", "cubby/v1/dev/+/cmd"));
    assert!(!device_may_subscribe("dev-1", "cubby/v1/dev/#"));
    assert!(!device_may_subscribe("dev-1", "cubby/v1/dev/dev-1/#"));
    assert!(!device_may_subscribe("dev-1", "cubby/v1/dev/dev-2/cmd"));
    assert_eq!(parse("cubby/v2/dev/dev-1/cmd"), None);
    assert_eq!(parse("cubby/v1/dev/a+b/cmd"), None);
    assert_eq!(server_subscriptions().len(), 5);
}
