// The runner's small assertion vocabulary (no JUnit: nothing can be fetched from Maven
// Central here, so the suite is plain Java against the SDK jar alone).

import com.amazonaws.AmazonServiceException;
import java.util.Objects;

final class Check {
    private Check() {}

    interface Body {
        void run() throws Exception;
    }

    static void that(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    static void equal(Object want, Object got, String what) {
        if (!Objects.equals(want, got)) {
            throw new AssertionError(what + ": want <" + want + "> got <" + got + ">");
        }
    }

    /** The service error a call fails with; fails if it succeeds. */
    static AmazonServiceException fails(Body call) throws Exception {
        try {
            call.run();
        } catch (AmazonServiceException e) {
            return e;
        }
        throw new AssertionError("the call succeeded");
    }
}
