//! The resource dependency graph: a creation order, and the members of dependency cycles.

use std::collections::{BTreeMap, BTreeSet};

/// Orders `nodes` (id, the ids it depends on) so every node comes after its dependencies,
/// keeping template order among independent nodes. Dependencies on unknown ids are ignored.
/// `Err` lists the nodes that lie on a cycle, in template order.
pub fn order(nodes: &[(String, Vec<String>)]) -> Result<Vec<String>, Vec<String>> {
    let index: BTreeMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (id.as_str(), i))
        .collect();
    let deps: Vec<BTreeSet<usize>> = nodes
        .iter()
        .map(|(_, d)| {
            d.iter()
                .filter_map(|x| index.get(x.as_str()).copied())
                .collect()
        })
        .collect();
    let mut done = vec![false; nodes.len()];
    let mut out = Vec::with_capacity(nodes.len());
    loop {
        let before = out.len();
        for i in 0..nodes.len() {
            if !done[i] && deps[i].iter().all(|d| done[*d]) {
                done[i] = true;
                out.push(nodes[i].0.clone());
            }
        }
        if out.len() == nodes.len() {
            return Ok(out);
        }
        if out.len() == before {
            break;
        }
    }
    Err(cycle_members(&deps)
        .into_iter()
        .map(|i| nodes[i].0.clone())
        .collect())
}

/// Nodes in a strongly connected component of more than one node, or with a self-loop
/// (Tarjan's algorithm, iterative).
fn cycle_members(deps: &[BTreeSet<usize>]) -> Vec<usize> {
    let n = deps.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next = 0usize;
    let mut members = BTreeSet::new();
    let adj: Vec<Vec<usize>> = deps.iter().map(|d| d.iter().copied().collect()).collect();
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut child)) = work.last_mut() {
            if *child < adj[v].len() {
                let w = adj[v][*child];
                *child += 1;
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut component = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        component.push(w);
                        if w == v {
                            break;
                        }
                    }
                    if component.len() > 1 || deps[v].contains(&v) {
                        members.extend(component);
                    }
                }
            }
        }
    }
    members.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(id: &str, deps: &[&str]) -> (String, Vec<String>) {
        (id.into(), deps.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn orders_and_finds_cycles() {
        let ok = order(&[
            n("Trail", &["Bucket", "Policy"]),
            n("Policy", &["Bucket"]),
            n("Bucket", &[]),
        ])
        .unwrap();
        assert_eq!(ok, vec!["Bucket", "Policy", "Trail"]);
        let err = order(&[
            n("A", &["B"]),
            n("B", &["C"]),
            n("C", &["A"]),
            n("D", &["A"]),
            n("E", &[]),
        ])
        .unwrap_err();
        assert_eq!(err, vec!["A", "B", "C"]);
        assert_eq!(order(&[n("A", &["A"])]).unwrap_err(), vec!["A"]);
    }
}
