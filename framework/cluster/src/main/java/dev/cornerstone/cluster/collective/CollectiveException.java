package dev.cornerstone.cluster.collective;

/**
 * A collective that failed: timed out, lost a peer, or saw a message that does not fit
 * the operation. The message names the job, this rank, the operation and the peer.
 */
public class CollectiveException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int peerRank;

    public CollectiveException(String message, int peerRank) {
        super(message);
        this.peerRank = peerRank;
    }

    public CollectiveException(String message, int peerRank, Throwable cause) {
        super(message, cause);
        this.peerRank = peerRank;
    }

    /** The rank this one was waiting for or sending to when it failed; -1 when none in particular. */
    public int peerRank() {
        return peerRank;
    }
}
