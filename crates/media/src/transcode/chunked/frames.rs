//! Frame-exact chunk boundaries from the plan's constant frame rate.
