//! `loket journey`: maintenance of the Prakerja journey projection.

use loket::{AppState, Config};

use super::{progress_bar, JourneyAction};

/// `loket journey rebuild`: recomputes every journey row and the funnel roll-up from the events.
pub async fn journey(config: Config, action: JourneyAction) -> anyhow::Result<()> {
    let JourneyAction::Rebuild = action;
    let state = AppState::open(config).await?;
    let total = loket::participants::count(&state.db).await?;
    let bar = progress_bar(total as u64, "rebuild");
    let rebuilt = loket::journey::rebuild(&state.db, |n| bar.inc(n as u64)).await?;
    bar.finish_and_clear();
    println!("{rebuilt} perjalanan dihitung ulang / journeys rebuilt");
    Ok(())
}
