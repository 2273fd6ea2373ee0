//! Every error code Cubby answers with, in one place: its stable name, the
//! HTTP status it travels with and what it means. Clients branch on the name,
//! so a name is never changed or reused; codes are only ever added (the
//! committed list `docs/error-codes.txt` is checked by a test). The status is
//! a plain number here: this crate knows nothing of HTTP libraries.

macro_rules! error_codes {
    ($($variant:ident = $name:literal, $status:literal, $doc:literal;)*) => {
        /// A stable, documented error code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $(#[doc = $doc] $variant,)*
        }

        impl Code {
            /// Every code, in the order of the committed list.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The name clients see in `code`.
            pub const fn name(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            /// The HTTP status an answer with this code carries.
            pub const fn status(self) -> u16 {
                match self { $(Code::$variant => $status,)* }
            }

            /// What the code means, for people (and the OpenAPI document).
            pub const fn description(self) -> &'static str {
                match self { $(Code::$variant => $doc,)* }
            }
        }
    };
}

error_codes! {
    NotFound = "not_found", 404, "The object does not exist or is not yours to see (ids of other organisations are never confirmed).";
    InvalidInput = "invalid_input", 422, "A field is missing or out of range; `details.field` names it.";
    Forbidden = "forbidden", 403, "This token's role may not do that.";
    Unauthorized = "unauthorized", 401, "A valid bearer token is required.";
    Unavailable = "unavailable", 503, "The service is temporarily unavailable; retry.";
    Conflict = "conflict", 409, "The object already exists.";
    NoCompartmentFits = "no_compartment_fits", 409, "No free compartment fits the parcel; `details` gives the reason and the overflow options.";
    IllegalTransition = "illegal_transition", 409, "The parcel's lifecycle does not allow that move from its current state.";
    IdempotencyKeyReused = "idempotency_key_reused", 422, "This Idempotency-Key was used with a different request.";
    BodyTooLarge = "body_too_large", 413, "The request body is too large or unreadable.";
    InvalidBody = "invalid_body", 422, "The JSON body is not valid for this request.";
    InvalidQuery = "invalid_query", 422, "The query string is not valid.";
    UnsupportedMediaType = "unsupported_media_type", 415, "Send the body as application/json.";
    CodeRejected = "code_rejected", 403, "The code opens nothing here (a wrong code and a code for no parcel answer alike).";
    KeypadLocked = "keypad_locked", 429, "Too many wrong codes: the keypad is locked for Retry-After seconds.";
    KeypadDisabled = "keypad_disabled", 429, "Too many wrong codes today: the keypad is disabled until staff reset it.";
    BuildingExists = "building_exists", 409, "The site already has a building of that name.";
    CarrierExists = "carrier_exists", 409, "A carrier with that code exists.";
    CompartmentOccupied = "compartment_occupied", 409, "The compartment holds a parcel.";
    CredentialCollision = "credential_collision", 409, "A freshly drawn code collided with a live one; retry.";
    CrossOrigin = "cross_origin", 403, "The request did not come from a page of this server.";
    DoorNotDriven = "door_not_driven", 409, "No agent drives this door.";
    InsufficientHistory = "insufficient_history", 409, "Not enough measured history for a forecast.";
    InviteNotValid = "invite_not_valid", 403, "The invitation has expired or was used.";
    LastPasskey = "last_passkey", 409, "The last passkey cannot be removed.";
    LockOutputTaken = "lock_output_taken", 409, "Another door already uses that lock output of the device.";
    NoDevice = "no_device", 409, "The locker has no agent to send the command to.";
    NoPasskey = "no_passkey", 409, "This staff token has no passkey yet: enrol one from an invitation first.";
    NotInAParcelRoom = "not_in_a_parcel_room", 409, "The parcel is not shelved in a parcel room.";
    NotInReturnQueue = "not_in_return_queue", 409, "The parcel is not waiting to be returned to its carrier.";
    NothingToCollect = "nothing_to_collect", 404, "Nothing waits for this resident here.";
    OfflineCodesExhausted = "offline_codes_exhausted", 409, "Every offline code slot of this door's window is used.";
    ParcelAlreadyDeposited = "parcel_already_deposited", 409, "This tracking number is already inside a compartment.";
    ParcelExists = "parcel_exists", 409, "A live parcel with this tracking number exists.";
    PasskeyRefused = "passkey_refused", 403, "The passkey could not be verified; start again.";
    PersonalCourierTokenRequired = "personal_courier_token_required", 403, "Only a personal courier token may do that.";
    PinTaken = "pin_taken", 409, "The PIN is in use at this site.";
    PortalNeedsAHostName = "portal_needs_a_host_name", 421, "Passkeys need a host name: open the page under its name, not an IP address.";
    RoomHasNoPath = "room_has_no_path", 409, "The parcel room has no door path yet.";
    SignedOut = "signed_out", 401, "The session has ended: sign in again.";
    StepUpRequired = "step_up_required", 403, "This opens doors: prove a passkey first and send the proof in Cubby-Step-Up.";
    TooManyGrants = "too_many_grants", 409, "The site holds the most live access grants it may.";
    WebhookDisabled = "webhook_disabled", 409, "The webhook is disabled.";
    WrongUnit = "wrong_unit", 409, "A household member must live in the host's unit.";
    HouseholdFull = "household_full", 409, "The unit holds the most residents it may.";
    AddedByStaff = "added_by_staff", 409, "Staff registered this resident; only staff may remove them.";
    NotCollectable = "not_collectable", 409, "The parcel is not waiting to be collected.";
    TooManyDelegates = "too_many_delegates", 409, "The parcel has the most live delegate codes it may.";
    ZoneFull = "zone_full", 409, "The shelf zone is full.";
    DoorNotAllowed = "door_not_allowed", 403, "This kind of credential never opens that door (a visitor PIN and a parcel room door, a courier visit and a path other than its room's).";
    TokenRevoked = "token_revoked", 401, "This token was revoked: it opens nothing any more.";
    TokenExpired = "token_expired", 401, "This token has expired: ask for a new one.";
    NotPreAdvised = "not_pre_advised", 403, "Carriers deposit only parcels they pre-advised for this site.";
    CarrierNotEnabled = "carrier_not_enabled", 403, "This carrier is not enabled at this site.";
    TooManyAttempts = "too_many_attempts", 429, "Too many failed attempts from here: wait as Retry-After says.";
    UnsafeWebhookTarget = "unsafe_webhook_target", 422, "Webhook targets must be public https addresses.";
    SecondStaffRequired = "second_staff_required", 403, "Opening several occupied compartments needs a second staff member's step-up.";
    EditConflict = "edit_conflict", 409, "Someone changed this since you read it: read it again and redo the edit.";
    BuildingInUse = "building_in_use", 409, "Units are still in the building.";
    UnitInUse = "unit_in_use", 409, "Residents live in the unit or parcels wait for it.";
    DoorInUse = "door_in_use", 409, "A door path or a live grant still names the door.";
    PathInUse = "path_in_use", 409, "A parcel room is reached by the path.";
    ParcelRedirected = "parcel_redirected", 409, "The parcel was redirected to another locker before it arrived: deposit it there.";
    ReservationEnded = "reservation_ended", 409, "The reservation was cancelled or its window has ended: its holds are released.";
    TooManyReturns = "too_many_returns", 409, "The resident has the most returns and shipments waiting to be dropped off they may.";
    IncidentResolved = "incident_resolved", 409, "The incident is resolved: nothing changes it any more.";
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}
