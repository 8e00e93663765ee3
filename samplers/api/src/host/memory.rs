//! Which addresses of this process are mapped, and how. The loader asks before it follows a
//! pointer out of a plugin's descriptor, so that a garbage pointer refuses the library instead of
//! crashing the host. Linux answers from `/proc/self/maps`; elsewhere nothing is known and the
//! loader checks only what it can without it (null pointers, lengths, UTF-8).

/// One mapping of the address space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Region {
    start: usize,
    end: usize,
    readable: bool,
    executable: bool,
}

/// A snapshot of the process's mappings, sorted by address.
#[derive(Debug)]
pub(super) struct MemoryMap {
    regions: Vec<Region>,
}

impl MemoryMap {
    /// The current mappings, or `None` where the platform does not tell.
    pub(super) fn current() -> Option<Self> {
        if !cfg!(target_os = "linux") {
            return None;
        }
        let text = std::fs::read_to_string("/proc/self/maps").ok()?;
        Self::parse(&text)
    }

    /// Parses the `/proc/<pid>/maps` format: `start-end perms offset dev inode [path]`.
    fn parse(text: &str) -> Option<Self> {
        let mut regions = Vec::new();
        for line in text.lines() {
            let mut fields = line.split_whitespace();
            let (range, perms) = (fields.next()?, fields.next()?);
            let (start, end) = range.split_once('-')?;
            let start = usize::from_str_radix(start, 16).ok()?;
            let end = usize::from_str_radix(end, 16).ok()?;
            let perms = perms.as_bytes();
            regions.push(Region {
                start,
                end,
                readable: perms.first() == Some(&b'r'),
                executable: perms.get(2) == Some(&b'x'),
            });
        }
        regions.sort_by_key(|region| region.start);
        (!regions.is_empty()).then_some(MemoryMap { regions })
    }

    fn region_at(&self, address: usize) -> Option<&Region> {
        let index = self
            .regions
            .partition_point(|region| region.start <= address);
        let region = self.regions.get(index.checked_sub(1)?)?;
        (address < region.end).then_some(region)
    }

    /// Whether all of `[address, address + len)` lies in readable mappings (always for `len` 0).
    pub(super) fn readable(&self, address: usize, len: usize) -> bool {
        let Some(end) = address.checked_add(len) else {
            return false;
        };
        let mut next = address;
        while next < end {
            match self.region_at(next) {
                Some(region) if region.readable => next = region.end,
                _ => return false,
            }
        }
        true
    }

    /// Whether `address` lies in an executable mapping.
    pub(super) fn executable(&self, address: usize) -> bool {
        self.region_at(address)
            .is_some_and(|region| region.executable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPS: &str = "\
00400000-00452000 r-xp 00000000 08:02 173521 /usr/bin/dbus-daemon
00651000-00652000 r--p 00051000 08:02 173521 /usr/bin/dbus-daemon
00652000-00655000 rw-p 00052000 08:02 173521 /usr/bin/dbus-daemon
00e03000-00e24000 ---p 00000000 00:00 0
00e24000-011f7000 rw-p 00000000 00:00 0 [heap]
";

    #[test]
    fn readable_ranges_may_span_adjacent_mappings_but_not_gaps_or_guards() {
        let map = MemoryMap::parse(MAPS).unwrap();
        assert!(map.readable(0x0040_0000, 0x10));
        assert!(
            map.readable(0x0065_1ff0, 0x20),
            "two adjacent readable mappings"
        );
        assert!(!map.readable(0x0065_4ff0, 0x20), "runs into a gap");
        assert!(!map.readable(0x00e0_3000, 1), "a guard page");
        assert!(!map.readable(0x10, 1));
        assert!(!map.readable(usize::MAX, 2), "wraps around");
        assert!(map.readable(0x10, 0), "nothing to read");
        assert!(map.executable(0x0040_1234));
        assert!(!map.executable(0x0065_1000));
        assert!(!map.executable(0x1));
    }

    #[test]
    fn this_process_is_described_on_linux() {
        if !cfg!(target_os = "linux") {
            return;
        }
        let map = MemoryMap::current().expect("/proc/self/maps");
        let text = "a static string";
        assert!(map.readable(text.as_ptr() as usize, text.len()));
        let function: fn() -> bool = this_process_is_described_on_linux_helper;
        assert!(map.executable(function as usize));
        assert!(!map.readable(8, 8));
    }

    fn this_process_is_described_on_linux_helper() -> bool {
        true
    }
}
