//! Removal of loads whose values are never used. Cranelift keeps every load in its order of
//! side effects, used or not; the translator loads registers at entries and after calls
//! without knowing whether anything reads them.

use cranelift_codegen::entity::EntityRef;
use cranelift_codegen::ir::{Function, InstructionData};

/// Removes every `notrap` load (of any width) whose result nothing uses, until none is left
/// (a removed load may have been the only user of another one's result). Loads read memory
/// and change nothing, so a load nothing reads is a load the program does not need.
pub(super) fn remove_dead_loads(func: &mut Function) {
    loop {
        let mut used = vec![false; func.dfg.num_values()];
        for block in func.layout.blocks() {
            for inst in func.layout.block_insts(block) {
                for v in func.dfg.inst_values(inst) {
                    used[func.dfg.resolve_aliases(v).index()] = true;
                }
            }
        }
        let mut dead = Vec::new();
        for block in func.layout.blocks() {
            for inst in func.layout.block_insts(block) {
                let InstructionData::Load { opcode, flags, .. } = func.dfg.insts[inst] else {
                    continue;
                };
                if opcode.can_load()
                    && func.dfg.mem_flags[flags].notrap()
                    && func.dfg.inst_results(inst).iter().all(|r| !used[r.index()])
                {
                    dead.push(inst);
                }
            }
        }
        if dead.is_empty() {
            return;
        }
        for inst in dead {
            func.layout.remove_inst(inst);
        }
    }
}
