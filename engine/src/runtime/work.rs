//! Fuel for work that grows with operand size: builtins and operators whose work is not
//! constant charge one unit per `ELEMENTS_PER_FUEL` units of element work and per
//! `BYTES_PER_FUEL` bytes.

use crate::config::{BYTES_PER_FUEL, ELEMENTS_PER_FUEL};
use crate::runtime::error::RtResult;
use crate::runtime::vm::Vm;

/// Element work of copying or moving one value (a list's element, a map's entry).
pub const MOVE: usize = 1;
/// Element work of comparing, printing or inserting into a map one value.
pub const VISIT: usize = 4;
/// Element work of inserting one entry into a map (hashing it and placing it).
pub const INSERT: usize = 8;
/// Element work of allocating one object per element (the parts of `split`).
pub const ALLOC: usize = 16;

/// Counts one operation's work as it is done and charges its fuel as soon as it is due:
/// the units charged are always `elements / ELEMENTS_PER_FUEL + bytes / BYTES_PER_FUEL` of
/// the work so far, so small operations cost nothing extra and a charge that cannot be paid
/// stops the operation before it does more.
#[derive(Debug, Default)]
pub struct Meter {
    elements: u64,
    bytes: u64,
    charged: u64,
    /// Counts nothing: for work that is not the program's (printing its outcome).
    free: bool,
}

impl Meter {
    /// A meter with no work counted.
    pub fn new() -> Meter {
        Meter::default()
    }

    /// A meter that never charges: for rendering a run's outcome (its final value, an
    /// uncaught thrown value), which happens once, after the program's own work.
    pub fn free() -> Meter {
        Meter {
            free: true,
            ..Meter::default()
        }
    }

    /// Counts `elements` and `bytes` more work, charging what became due.
    #[inline]
    pub fn add(&mut self, vm: &Vm, elements: usize, bytes: usize) -> RtResult<()> {
        if self.free {
            return Ok(());
        }
        self.elements += elements as u64;
        self.bytes += bytes as u64;
        let due = self.elements / ELEMENTS_PER_FUEL + self.bytes / BYTES_PER_FUEL;
        if due > self.charged {
            let units = due - self.charged;
            self.charged = due;
            vm.charge_fuel(units)?;
        }
        Ok(())
    }
}

impl Vm {
    /// Charges the fuel of work about to be done whose size is known up front.
    #[inline]
    pub fn charge_work(&self, elements: usize, bytes: usize) -> RtResult<()> {
        Meter::new().add(self, elements, bytes)
    }

    /// Charges `units` of fuel; when fewer are left, uses them all and fails with
    /// `FuelExhausted` (at the instruction running, as every charge does).
    pub fn charge_fuel(&self, units: u64) -> RtResult<()> {
        let left = self.fuel_left.get();
        if units > left {
            self.fuel_left.set(0);
            return Err(self.fuel_error());
        }
        self.fuel_left.set(left - units);
        Ok(())
    }
}
