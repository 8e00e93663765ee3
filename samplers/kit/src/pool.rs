use sampler_api::rng::Rng;

/// Marks an item that has left the pool.
const TAKEN: u32 = u32::MAX;

/// The items not yet placed in a batch this epoch, with O(1) uniform draws and O(1) removal of
/// a named item: an array of the items plus each item's position in it (swap-remove).
#[derive(Debug)]
pub(crate) struct UnusedPool {
    items: Vec<u32>,
    /// `position[item]` is the index of `item` in `items`, or [`TAKEN`].
    position: Vec<u32>,
}

impl UnusedPool {
    /// A pool holding all of `0..n_items` (`n_items` fits in u32, as `SamplerData` ensures).
    pub(crate) fn full(n_items: usize) -> Self {
        let items: Vec<u32> = (0..n_items as u32).collect();
        UnusedPool {
            position: items.clone(),
            items,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn contains(&self, item: u32) -> bool {
        self.position
            .get(item as usize)
            .is_some_and(|&position| position != TAKEN)
    }

    /// Removes and returns a uniformly random item, or `None` when the pool is empty.
    pub(crate) fn take_random(&mut self, rng: &mut Rng) -> Option<u32> {
        if self.items.is_empty() {
            return None;
        }
        let index = rng.below(self.items.len());
        Some(self.take_at(index))
    }

    /// Removes `item`; false when it was already taken (or is no item at all), so a neighbour
    /// listed twice in a table is still placed only once.
    pub(crate) fn take(&mut self, item: u32) -> bool {
        match self.position.get(item as usize) {
            Some(&position) if position != TAKEN => {
                self.take_at(position as usize);
                true
            }
            _ => false,
        }
    }

    /// Returns a taken `item` to the pool (an item already in it stays in it once).
    pub(crate) fn put_back(&mut self, item: u32) {
        if !self.contains(item) {
            self.position[item as usize] = self.items.len() as u32;
            self.items.push(item);
        }
    }

    fn take_at(&mut self, index: usize) -> u32 {
        let item = self.items.swap_remove(index);
        if let Some(&moved) = self.items.get(index) {
            self.position[moved as usize] = index as u32;
        }
        self.position[item as usize] = TAKEN;
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_every_item_once() {
        let mut pool = UnusedPool::full(50);
        let mut rng = Rng::for_stream(3, &[]);
        assert!(pool.take(7));
        assert!(!pool.take(7));
        assert!(!pool.take(50));
        pool.put_back(7);
        pool.put_back(7);
        assert_eq!(pool.len(), 50);
        assert!(pool.take(7));
        let mut drawn = vec![7];
        while let Some(item) = pool.take_random(&mut rng) {
            assert!(!pool.contains(item));
            drawn.push(item);
        }
        assert_eq!(pool.len(), 0);
        drawn.sort_unstable();
        assert_eq!(drawn, (0..50).collect::<Vec<_>>());
    }
}
