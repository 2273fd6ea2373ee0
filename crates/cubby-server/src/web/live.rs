//! The locker grid kept live over server-sent events.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};

use super::*;
use crate::AppState;

/// The grid as server-sent events: the whole grid first, then again each
/// time a compartment changes (checked every 500 ms).
pub(super) async fn locker_live(
    State(state): State<AppState>,
    session: Session,
    Path(locker_id): Path<String>,
) -> Response {
    let (locker, site) = match locker_of(&state, &session, &locker_id).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let stream = futures_util::stream::unfold(
        (state, site.id, locker.id, None::<Vec<Cell>>, true),
        |(state, site_id, locker_id, mut last, first)| async move {
            loop {
                if !first || last.is_some() {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                let cells = match state.store.reader().await {
                    Ok(mut conn) => grid_cells(&mut conn, &site_id, &locker_id).await.ok(),
                    Err(_) => None,
                };
                if let Some(cells) = cells
                    && last.as_ref() != Some(&cells)
                {
                    let data = serde_json::json!({ "cells": cells }).to_string();
                    last = Some(cells);
                    let event = Event::default().event("grid").data(data);
                    return Some((
                        Ok::<_, Infallible>(event),
                        (state, site_id, locker_id, last, false),
                    ));
                }
            }
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}
