//! Store tests through `MessageStore`: appends, dispatch, and recovery from every kind of
//! damage a crash can leave.

use super::record::{self, StoreRequest, field};
use super::{Appended, MessageStore, StoreSettings, StoreTimer};
use crate::broker::config::{BrokerBugs, FlushDiskType, StoreConfig};
use crate::disk::Disk;
use crate::ids::NodeId;
use crate::message::{Message, property};
use crate::testing::TestIo;

fn settings(bugs: BrokerBugs) -> StoreSettings {
    StoreSettings {
        broker_name: "broker-a".into(),
        store_host: NodeId(3),
        config: StoreConfig {
            commit_log_file_size: 8 * 1024,
            consume_queue_entries_per_file: 16,
            ..StoreConfig::default()
        },
        flush_disk_type: FlushDiskType::AsyncFlush,
        is_slave: false,
        dledger: None,
        bugs,
    }
}

fn open(io: &mut TestIo, bugs: BrokerBugs) -> MessageStore {
    MessageStore::open(&mut io.ctx(), settings(bugs)).expect("store opens")
}

fn request(seq: u32, queue_id: u32) -> StoreRequest {
    let mut message = Message::new("orders", vec![seq as u8; 60 + (seq as usize % 7)]);
    message.set_property(
        property::UNIQ_KEY,
        crate::ids::MessageId { producer: 0, seq }.to_uniq_key(),
    );
    StoreRequest {
        topic: "orders".into(),
        queue_id,
        flag: 0,
        sys_flag: 0,
        body: message.body.clone(),
        properties: message.encode_properties(),
        born_timestamp_ms: 1,
        born_host: NodeId(9),
        reconsume_times: 0,
    }
}

/// Puts `count` messages over two queues and dispatches them.
fn fill(io: &mut TestIo, store: &mut MessageStore, count: u32) -> Vec<Appended> {
    let appended = (0..count)
        .map(|seq| {
            io.now = io.now.plus_ms(10);
            store.put(&mut io.ctx(), &request(seq, seq % 2)).unwrap()
        })
        .collect();
    store.on_timer(&mut io.ctx(), StoreTimer::Reput);
    appended
}

/// Reads a whole queue, page by page as a consumer would.
fn ids_in_queue(io: &TestIo, store: &MessageStore, queue_id: u32) -> Vec<u32> {
    let mut ids = Vec::new();
    let mut offset = 0;
    loop {
        let result = store.get_message(&io.disk, "orders", queue_id, offset, 32, None);
        if result.status != super::GetStatus::Found {
            return ids;
        }
        ids.extend(
            result
                .messages
                .iter()
                .map(|bytes| record::decode(bytes).unwrap().message_id().unwrap().seq),
        );
        offset = result.next_begin_offset;
    }
}

/// Zeroes `[from, to)` of the commitlog, as a crash that lost those bytes would leave it.
fn zero_log(io: &mut TestIo, from: u64, to: u64) {
    let size = 8 * 1024;
    let path = format!("store/commitlog/{:020}", from - from % size);
    let zeros = vec![0u8; (to - from) as usize];
    io.disk.write(&path, from % size, &zeros);
}

#[test]
fn messages_are_dispatched_to_their_queues_in_order() {
    let mut io = TestIo::new();
    let mut store = open(&mut io, BrokerBugs::default());
    fill(&mut io, &mut store, 90);
    assert_eq!(
        ids_in_queue(&io, &store, 0),
        (0..90).step_by(2).collect::<Vec<_>>()
    );
    assert_eq!(
        ids_in_queue(&io, &store, 1),
        (1..90).step_by(2).collect::<Vec<_>>()
    );
    assert_eq!(store.max_offset_in_queue("orders", 0), 45);
    assert!(
        store.commit_log.files.files.len() > 1,
        "the log should roll"
    );
}

/// `CommitLogDispatcherBuildConsumeQueue`: records flagged prepared or rolled back get no
/// ConsumeQueue entry; committed and plain ones do.
#[test]
fn prepared_and_rolled_back_records_are_not_dispatched() {
    use crate::broker::transaction::sys_flag;
    let mut io = TestIo::new();
    let mut store = open(&mut io, BrokerBugs::default());
    for (seq, flag) in [sys_flag::PREPARED, sys_flag::COMMIT, sys_flag::ROLLBACK, 0]
        .into_iter()
        .enumerate()
    {
        let mut put = request(seq as u32, 0);
        put.sys_flag = flag;
        store.put(&mut io.ctx(), &put).unwrap();
    }
    store.on_timer(&mut io.ctx(), StoreTimer::Reput);
    assert_eq!(ids_in_queue(&io, &store, 0), vec![1, 3]);
}

/// A crash that tears the last record at any field boundary (or inside its body) loses that
/// record only; its queue offset is handed out again.
#[test]
fn recovery_cuts_a_torn_tail_at_every_field_boundary() {
    let mut base = TestIo::new();
    let mut store = open(&mut base, BrokerBugs::default());
    let appended = fill(&mut base, &mut store, 21);
    let last = *appended.last().unwrap();
    let body_len = 60 + 20 % 7;
    let mut cuts = vec![
        field::TOTAL_SIZE,
        field::MAGIC,
        field::BODY_CRC,
        field::QUEUE_ID,
        field::FLAG,
        field::QUEUE_OFFSET,
        field::PHYSICAL_OFFSET,
        field::SYS_FLAG,
        field::BORN_TIMESTAMP,
        field::BORN_HOST,
        field::STORE_TIMESTAMP,
        field::STORE_HOST,
        field::RECONSUME_TIMES,
        field::PREPARED_TRANSACTION_OFFSET,
        field::BODY_LENGTH,
        field::BODY,
    ];
    cuts.extend([
        field::BODY + 1,
        field::BODY + body_len / 2,
        field::BODY + body_len,
    ]);
    // The topic length byte, inside the topic, and the properties length.
    cuts.extend([
        field::BODY + body_len + 1,
        field::BODY + body_len + 3,
        field::BODY + body_len + 7,
    ]);
    for cut in cuts {
        let mut io = base.restart();
        zero_log(
            &mut io,
            last.physical_offset + cut as u64,
            last.next_offset(),
        );
        let mut recovered = open(&mut io, BrokerBugs::default());
        assert_eq!(
            recovered.max_physical_offset(),
            last.physical_offset,
            "cut at byte {cut}"
        );
        assert_eq!(
            ids_in_queue(&io, &recovered, 0),
            (0..20).step_by(2).collect::<Vec<_>>(),
            "cut at byte {cut}"
        );
        // The lost record's queue offset is reused by the next message.
        io.now = io.now.plus_ms(10);
        let next = recovered.put(&mut io.ctx(), &request(99, 0)).unwrap();
        assert_eq!(next.queue_offset, last.queue_offset, "cut at byte {cut}");
        assert_eq!(next.physical_offset, last.physical_offset);
    }
}

#[test]
fn recovering_twice_gives_the_same_store() {
    let mut io = TestIo::new();
    let mut store = open(&mut io, BrokerBugs::default());
    let appended = fill(&mut io, &mut store, 30);
    let last = appended.last().unwrap();
    zero_log(&mut io, last.physical_offset + 30, last.next_offset());
    let first = open(&mut io, BrokerBugs::default());
    let after_first = io.disk.files.clone();
    let second = open(&mut io, BrokerBugs::default());
    assert_eq!(io.disk.files, after_first);
    assert_eq!(first.max_physical_offset(), second.max_physical_offset());
    assert_eq!(ids_in_queue(&io, &first, 1), ids_in_queue(&io, &second, 1));
}

#[test]
fn a_crc_mismatch_ends_recovery_unless_the_check_is_skipped() {
    let mut io = TestIo::new();
    let mut store = open(&mut io, BrokerBugs::default());
    let appended = fill(&mut io, &mut store, 10);
    let damaged = appended[6];
    let path = "store/commitlog/00000000000000000000";
    let at = damaged.physical_offset + field::BODY as u64;
    let byte = io.disk.read(path, at, 1)[0];
    io.disk.write(path, at, &[byte ^ 0xFF]);

    let mut skipping = io.restart();
    let checked = open(&mut io, BrokerBugs::default());
    assert_eq!(checked.max_physical_offset(), damaged.physical_offset);
    assert_eq!(ids_in_queue(&io, &checked, 0), vec![0, 2, 4]);

    let bugs = BrokerBugs {
        skip_crc_check_on_recover: true,
        ..BrokerBugs::default()
    };
    let unchecked = open(&mut skipping, bugs);
    assert_eq!(unchecked.max_physical_offset(), appended[9].next_offset());
}

#[test]
fn a_consume_queue_ahead_of_the_log_is_cut_back() {
    let mut io = TestIo::new();
    let mut store = open(&mut io, BrokerBugs::default());
    let appended = fill(&mut io, &mut store, 12);
    // The log loses its last four records; the queues had them dispatched already.
    zero_log(
        &mut io,
        appended[8].physical_offset,
        appended[11].next_offset(),
    );
    let recovered = open(&mut io, BrokerBugs::default());
    assert_eq!(recovered.max_offset_in_queue("orders", 0), 4);
    assert_eq!(recovered.max_offset_in_queue("orders", 1), 4);
}

/// The bug switch: recovery cuts the log but leaves the queues' entries past the cut.
#[test]
fn keeping_the_consume_queue_on_truncation_leaves_entries_past_the_cut() {
    let bugs = BrokerBugs {
        keep_consume_queue_on_truncation: true,
        ..BrokerBugs::default()
    };
    let mut io = TestIo::new();
    let mut store = open(&mut io, bugs.clone());
    let appended = fill(&mut io, &mut store, 12);
    zero_log(
        &mut io,
        appended[8].physical_offset,
        appended[11].next_offset(),
    );
    let recovered = open(&mut io, bugs);
    assert_eq!(recovered.max_physical_offset(), appended[8].physical_offset);
    assert_eq!(recovered.max_offset_in_queue("orders", 0), 6);
}

/// A record whose queue offset is past its queue's end gets its entry where the queue ends,
/// and the store reports it.
#[test]
fn a_dispatch_past_the_queues_end_is_reported_as_misplaced() {
    let mut io = TestIo::new();
    let mut store = open(&mut io, BrokerBugs::default());
    let appended = fill(&mut io, &mut store, 4);
    let last = appended[3];
    let bytes = store
        .commit_log
        .read(&io.disk, last.physical_offset, last.bytes)
        .unwrap();
    let record::Scan::Record(mut request) = record::scan(&bytes, true) else {
        panic!("a record");
    };
    // Queue 1 holds offsets 0 and 1; this record claims offset 9, further along the log.
    request.queue_offset = 9;
    request.commit_log_offset += 10_000;
    store.dispatch(&mut io.disk, &request, 16);
    store.report_dispatch(&mut io.ctx());
    let reported = io.events.iter().find_map(|event| match event {
        crate::event::Event::ConsumeQueueMisplaced {
            entry,
            queue_offset,
            ..
        } => Some((entry.queue_id, entry.offset, *queue_offset)),
        _ => None,
    });
    assert_eq!(reported, Some((1, 2, 9)));
}

#[test]
fn a_consume_queue_behind_the_log_is_rebuilt() {
    let mut io = TestIo::new();
    let mut store = open(&mut io, BrokerBugs::default());
    fill(&mut io, &mut store, 12);
    // The queues lose their entries (never flushed); the log is intact.
    for path in io.disk.list("store/consumequeue/orders/0") {
        io.disk
            .delete(&format!("store/consumequeue/orders/0/{path}"));
    }
    let recovered = open(&mut io, BrokerBugs::default());
    assert_eq!(ids_in_queue(&io, &recovered, 0), vec![0, 2, 4, 6, 8, 10]);
}

/// A slave that starts empty takes the master's log from the beginning of a later file, byte
/// for byte, and serves the same messages at the same queue offsets from there on.
#[test]
fn a_slave_replays_the_masters_log_from_where_it_starts() {
    let mut master_io = TestIo::new();
    let mut master = open(&mut master_io, BrokerBugs::default());
    fill(&mut master_io, &mut master, 200);
    let file_size = 8 * 1024;
    let start = file_size * 2;
    let mut slave_io = TestIo::new();
    let mut slave = MessageStore::open(
        &mut slave_io.ctx(),
        StoreSettings {
            is_slave: true,
            ..settings(BrokerBugs::default())
        },
    )
    .expect("store opens");
    // What the master's transfer loop ships: 1 KiB batches, never across a file's end.
    let mut offset = start;
    while let Some(data) = master.commit_log_data(&master_io.disk, offset, 1024) {
        slave.append_replica(&mut slave_io.ctx(), offset, &data);
        offset += data.len() as u64;
    }
    assert_eq!(offset, master.max_physical_offset());
    assert_eq!(slave.max_physical_offset(), master.max_physical_offset());
    slave.on_timer(&mut slave_io.ctx(), StoreTimer::Reput);
    for queue_id in 0..2 {
        let from = slave.min_offset_in_queue("orders", queue_id);
        assert!(from > 0, "the slave's queue starts where its log does");
        assert_eq!(
            slave.max_offset_in_queue("orders", queue_id),
            master.max_offset_in_queue("orders", queue_id)
        );
        let read = |io: &TestIo, store: &MessageStore| {
            let result = store.get_message(&io.disk, "orders", queue_id, from, 1_000, None);
            result
                .messages
                .iter()
                .map(|m| record::decode(m).unwrap().message_id().unwrap().seq)
                .collect::<Vec<_>>()
        };
        assert_eq!(read(&slave_io, &slave), read(&master_io, &master));
    }
}

/// A pull that leaves more than `accessMessageInMemoryMaxRatio` of memory behind it reads
/// from disk: the answer suggests a slave.
#[test]
fn a_pull_far_behind_suggests_pulling_from_a_slave() {
    let mut io = TestIo::new();
    let mut store = open(&mut io, BrokerBugs::default());
    fill(&mut io, &mut store, 200);
    let behind = store.get_message(&io.disk, "orders", 0, 0, 4, None);
    let near = store.get_message(&io.disk, "orders", 0, 96, 4, None);
    assert!(
        !behind.suggest_pulling_from_slave,
        "8 GiB of memory holds all of it"
    );
    store.settings.config.total_memory_bytes = 10 * 1024;
    let behind = store.get_message(&io.disk, "orders", 0, 0, 4, None);
    let near_now = store.get_message(&io.disk, "orders", 0, 96, 4, None);
    assert!(
        behind.suggest_pulling_from_slave,
        "4 KiB of page cache holds only the tail"
    );
    assert!(!near_now.suggest_pulling_from_slave && !near.suggest_pulling_from_slave);
}

/// `getOffsetInQueueByTime`'s search: the entry stored at the time, else the nearer
/// neighbour, else the one side there is.
#[test]
fn the_search_by_time_finds_the_nearest_entry() {
    let stored = [1_000, 2_000, 3_000, 4_000];
    let at = |offset: u64| stored.get(offset as usize).copied();
    assert_eq!(super::search_by_time(0..4, 3_000, at), 2);
    assert_eq!(super::search_by_time(0..4, 2_100, at), 1);
    assert_eq!(super::search_by_time(0..4, 2_900, at), 2);
    assert_eq!(super::search_by_time(0..4, 500, at), 0);
    assert_eq!(super::search_by_time(0..4, 9_000, at), 3);
    assert_eq!(super::search_by_time(0..0, 9_000, at), 0);
}
