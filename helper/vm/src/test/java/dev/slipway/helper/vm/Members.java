package dev.slipway.helper.vm;

import java.io.IOException;

import dev.slipway.api.helper.HelperCall.Caller;
import dev.slipway.testing.TestUsers;

/**
 * Two real members of a real group, so directories and files can belong to them the way they would
 * on a member's machine; removed by {@link #close()}. Needs root.
 */
final class Members implements AutoCloseable {

    private final TestUsers users;
    final String group;
    final String alice;
    final String bob;

    private Members(TestUsers users) throws IOException, InterruptedException {
        this.users = users;
        this.group = users.group();
        this.alice = users.member("a");
        this.bob = users.member("b");
    }

    /** Creates the group and its two members, or aborts the test saying what is missing. */
    static Members create() throws IOException, InterruptedException {
        TestUsers users = TestUsers.create("slwv", "creates two member users with useradd");
        try {
            return new Members(users);
        } catch (IOException | InterruptedException | RuntimeException | AssertionError e) {
            users.close();
            throw e;
        }
    }

    Caller caller(String user) {
        return new Caller(user, user);
    }

    @Override
    public void close() {
        users.close();
    }
}
