package dev.slipway.networking.stack.loop;

import java.util.Arrays;

/** A binary min-heap of timers by deadline; each timer knows its index, so moving or removing one is O(log n). */
final class TimerHeap {
    private Timer[] heap = new Timer[64];
    private int size;

    int size() {
        return size;
    }

    Timer first() {
        return size == 0 ? null : heap[0];
    }

    void schedule(Timer t, long deadline) {
        if (t.index >= 0) {
            long old = t.deadline;
            t.deadline = deadline;
            if (deadline - old < 0) {
                up(t.index);
            } else {
                down(t.index);
            }
            return;
        }
        if (size == heap.length) {
            heap = Arrays.copyOf(heap, size * 2);
        }
        t.deadline = deadline;
        t.index = size;
        heap[size++] = t;
        up(t.index);
    }

    void cancel(Timer t) {
        int i = t.index;
        if (i < 0) {
            return;
        }
        t.index = -1;
        Timer last = heap[--size];
        heap[size] = null;
        if (i < size) {
            heap[i] = last;
            last.index = i;
            up(i);
            down(last.index);
        }
    }

    private void up(int i) {
        Timer t = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            Timer p = heap[parent];
            if (t.deadline - p.deadline >= 0) {
                break;
            }
            heap[i] = p;
            p.index = i;
            i = parent;
        }
        heap[i] = t;
        t.index = i;
    }

    private void down(int i) {
        Timer t = heap[i];
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            int right = child + 1;
            if (right < size && heap[right].deadline - heap[child].deadline < 0) {
                child = right;
            }
            Timer c = heap[child];
            if (c.deadline - t.deadline >= 0) {
                break;
            }
            heap[i] = c;
            c.index = i;
            i = child;
        }
        heap[i] = t;
        t.index = i;
    }
}
