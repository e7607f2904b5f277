package dev.slipway.platform.linux.natives;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Passing a descriptor over a socket pair, as the helper passes a bound socket to the runtime. */
class DescriptorsTest {
    @TempDir
    Path dir;
    private int[] pair;

    @BeforeEach
    void pair() throws IOException {
        pair = Descriptors.socketPair();
    }

    @AfterEach
    void close() {
        FileDescriptors.closeQuietly(pair[0]);
        FileDescriptors.closeQuietly(pair[1]);
    }

    @Test
    void aPassedDescriptorIsTheSameFileUnderANewNumber() throws IOException {
        Path file = Files.writeString(dir.resolve("passed"), "content");
        int fd = FileDescriptors.open(file.toString(), FileDescriptors.O_RDONLY | FileDescriptors.O_CLOEXEC, 0);
        try {
            Descriptors.send(pair[0], fd, (byte) 'F');
        } finally {
            FileDescriptors.closeQuietly(fd);
        }
        UnixSockets.sendAll(pair[0], "reply".getBytes(StandardCharsets.US_ASCII));

        DescriptorReceiver receiver = new DescriptorReceiver(64);
        ByteBuffer in = ByteBuffer.allocate(64);
        assertEquals(1, receiver.receive(pair[1], in), "the marker byte arrives alone");
        assertEquals('F', in.get(0));
        int received = receiver.takeDescriptor();
        try {
            assertTrue(received >= 0);
            assertEquals(-1, receiver.takeDescriptor(), "taken once");
            FileStatus status = FileDescriptors.fstat(received);
            FileStatus original = statusOf(file);
            assertTrue(status.regularFile());
            assertTrue(status.sameFile(original.device(), original.inode()));
            assertEquals("content", Files.readString(FileDescriptors.path(received)));
        } finally {
            FileDescriptors.closeQuietly(received);
        }
        assertEquals(5, receiver.receive(pair[1], in));
        assertEquals(-1, receiver.takeDescriptor(), "plain bytes carry no descriptor");
        assertArrayEquals("Freply".getBytes(StandardCharsets.US_ASCII), java.util.Arrays.copyOf(in.array(), in.position()));
    }

    @Test
    void receivingIntoADirectBufferWorksToo() throws IOException {
        UnixSockets.sendAll(pair[0], new byte[] {1, 2, 3});
        ByteBuffer in = ByteBuffer.allocateDirect(2);
        assertEquals(2, new DescriptorReceiver(16).receive(pair[1], in), "never more than the buffer's room");
        assertEquals(2, in.position());
        assertEquals(2, in.get(1));
    }

    @Test
    void theEndOfTheStreamIsZero() throws IOException {
        FileDescriptors.close(pair[0]);
        assertEquals(0, new DescriptorReceiver(16).receive(pair[1], ByteBuffer.allocate(16)));
    }

    @Test
    void aReceiveTimeoutIsEagain() throws IOException {
        UnixSockets.setTimeouts(pair[1], Duration.ofSeconds(1));
        ErrnoException e = assertThrows(ErrnoException.class, () -> new DescriptorReceiver(16).receive(pair[1], ByteBuffer.allocate(16)));
        assertEquals(Errno.EAGAIN, e.errno());
    }

    @Test
    void passingOnANonSocketSaysWhy() throws IOException {
        Path file = Files.writeString(dir.resolve("f"), "");
        int fd = FileDescriptors.open(file.toString(), FileDescriptors.O_RDONLY, 0);
        try {
            ErrnoException e = assertThrows(ErrnoException.class, () -> Descriptors.send(fd, fd, (byte) 'F'));
            assertEquals(Errno.ENOTSOCK, e.errno());
            assertTrue(e.getMessage().contains("ENOTSOCK"), e.getMessage());
        } finally {
            FileDescriptors.closeQuietly(fd);
        }
    }

    @Test
    void errnoIsDescribedByTextAndName() {
        assertEquals("Permission denied (EACCES, errno 13)", Errno.describe(Errno.EACCES));
        assertEquals("errno 9999", Errno.name(9999));
        assertNotEquals("", Errno.describe(9999));
    }

    static FileStatus statusOf(Path file) throws IOException {
        int fd = FileDescriptors.open(file.toString(), FileDescriptors.O_RDONLY | FileDescriptors.O_CLOEXEC, 0);
        try {
            return FileDescriptors.fstat(fd);
        } finally {
            FileDescriptors.closeQuietly(fd);
        }
    }
}
